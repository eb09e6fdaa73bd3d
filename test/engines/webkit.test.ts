import { defineOutboxCases } from './support/outbox-cases.js';
import { webkit } from './support/webkit.js';

defineOutboxCases(webkit);
