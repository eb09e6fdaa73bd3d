import { firefox } from './support/firefox.js';
import { defineOutboxCases } from './support/outbox-cases.js';

defineOutboxCases(firefox);
