import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createRouteMatcher } from '../../sw/route-matcher.js';

const ORIGIN = 'https://app.example';
const check = (options: Parameters<typeof createRouteMatcher>[0], href: string, mode: RequestMode = 'cors', method = 'POST') => {
  const url = new URL(href, ORIGIN);
  return createRouteMatcher(options)({ url, sameOrigin: url.origin === ORIGIN, request: { mode, method } as Request });
};
const everything = { include: ['/'], exclude: [], origins: [], forms: { enabled: false, savedPath: undefined }, signInPaths: [] };

test('every same-origin path by default, never a navigation', () => {
  assert.equal(check(everything, '/api/items'), true);
  assert.equal(check(everything, '/'), true);
  assert.equal(check(everything, '/form', 'navigate'), false);
});

test('with forms, a form post (a POST navigation) to an included path; never another navigation', () => {
  const forms = { ...everything, include: ['/orders/'], forms: { enabled: true, savedPath: undefined } };
  assert.equal(check(forms, '/orders/new', 'navigate'), true);
  assert.equal(check(forms, '/other', 'navigate'), false);
  assert.equal(check(forms, '/orders/new', 'navigate', 'PUT'), false);
});

test('other origins only when allowed', () => {
  assert.equal(check(everything, 'https://api.example/items'), false);
  assert.equal(check({ ...everything, origins: ['https://api.example'] }, 'https://api.example/items'), true);
  assert.equal(check({ ...everything, origins: ['https://api.example'] }, 'https://api.example:8443/items'), false);
});

test('prefixes, and patterns that must match the whole path', () => {
  const options = { include: ['/api/', '/lists/*/items'], exclude: ['/api/auth/', '/api/*.json'], origins: [], forms: { enabled: false, savedPath: undefined }, signInPaths: [] };
  assert.equal(check(options, '/api/items'), true);
  assert.equal(check(options, '/apix'), false);
  assert.equal(check(options, '/v2/api/items'), false); // a prefix, not a substring
  assert.equal(check(options, '/lists/42/items'), true);
  assert.equal(check(options, '/lists/42/items/7'), false);
  assert.equal(check(options, '/api/auth/login'), false);
  assert.equal(check(options, '/api/export.json'), false);
  assert.equal(check(options, '/api/exportXjson'), true); // "." in a pattern is a dot, not any character
});

test('a sign-in is never a write to keep, fetched or posted from a form', () => {
  const options = { ...everything, forms: { enabled: true, savedPath: undefined }, signInPaths: ['/login', '/users/sign_in'] };
  assert.equal(check(options, '/login'), false);
  assert.equal(check(options, '/users/sign_in', 'navigate'), false);
  assert.equal(check(options, '/api/items'), true);
});
