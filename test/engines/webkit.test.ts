import { defineOutboxCases } from './support/outbox-cases.js';
import { defineRestAppCases } from './support/rest-app-cases.js';
import { webkit } from './support/webkit.js';

defineOutboxCases(webkit);
defineRestAppCases(webkit);
