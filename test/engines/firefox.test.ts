import { firefox } from './support/firefox.js';
import { defineOutboxCases } from './support/outbox-cases.js';
import { defineRestAppCases } from './support/rest-app-cases.js';

defineOutboxCases(firefox);
defineRestAppCases(firefox);
