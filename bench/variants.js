'use strict';
// The switches the benchmark can flip on our server and Node client, in one
// table, so the cost of a feature on the request path is measured by running
// the same workloads with it on and off (`--variants`).
//
// A feature is one line: what turning it on and off means as IPCServer config
// overrides (`server`) and IPCClient options (`client`). `requires` lists the
// config keys it needs; a feature whose keys the built server does not know
// (dist/lib/config.js defaultConfig) is reported as "not available yet" and
// skipped, so lines for work that has not landed can sit here ready.
const os = require('os');
const path = require('path');

const benchUser = () => os.userInfo().username;

const FEATURES = [
  {
    name: 'auth',
    about: 'token authentication (auth_tokens): one auth request per connection, then a flag check per request',
    on: { server: { auth_tokens: ['bench-token'] }, client: { auth: 'bench-token' } },
    off: {},
    requires: ['auth_tokens'],
  },
  {
    name: 'endpoint-stats',
    about: 'per-endpoint counters and latency histograms (endpoint_stats)',
    on: { server: { endpoint_stats: true } },
    off: { server: { endpoint_stats: false } },
    requires: ['endpoint_stats'],
  },
  {
    name: 'policy',
    about: 'identity policy: allow_users names the bench user (checked per connection) and a policy rule on the echo uri names it too (checked per request)',
    on: { server: () => ({ allow_users: [benchUser()], policy: [{ uri: '^/ipcserver/test/', users: [benchUser()] }] }) },
    off: {},
    requires: ['allow_users', 'policy'],
  },
  {
    name: 'deadlines',
    about: 'the Node client sends its requestTimeout as timeoutMs with every request, the server tracks the deadline',
    on: { client: { requestTimeout: 120000 } },
    off: { client: { requestTimeout: 0 } },
    requires: [],
  },
];

/**
 * Overrides every one of our benchmark servers gets, when the built server has
 * the key: all benchmark connections come from one user, so a per-user
 * connection cap would refuse the 1,000-connection points.
 */
const ALWAYS = { max_connections_per_user: 0 };

/** ALWAYS, limited to the keys the built server knows. */
function alwaysOverrides(keys = knownConfigKeys()) {
  return Object.fromEntries(Object.entries(ALWAYS).filter(([key]) => keys.has(key)));
}

/** Config keys the built server knows (empty when it is not built). */
function knownConfigKeys() {
  try {
    return new Set(Object.keys(require(path.join(__dirname, '..', 'dist', 'lib', 'config.js')).defaultConfig));
  } catch {
    return new Set();
  }
}

function evaluate(part) {
  return typeof part === 'function' ? part() : part || {};
}

/** The features whose config keys exist, and the names of those that do not. */
function availableFeatures(keys = knownConfigKeys()) {
  const available = [];
  const missing = [];
  for (const feature of FEATURES) {
    if (feature.requires.every((key) => keys.has(key))) available.push(feature);
    else missing.push(`${feature.name} (needs ${feature.requires.filter((key) => !keys.has(key)).join(', ')})`);
  }
  return { available, missing };
}

/** Server overrides and client options for a set of feature states: { name: 'on' | 'off' }. */
function compose(features, states) {
  const server = {};
  const client = {};
  for (const feature of features) {
    const side = feature[states[feature.name]];
    if (!side) continue;
    Object.assign(server, evaluate(side.server));
    Object.assign(client, evaluate(side.client));
  }
  return { server, client };
}

/**
 * Every variant name the table defines: `base` (defaults, as users run it),
 * `all-on` (every available feature on), and per feature `<name>-off` (all on
 * but that one: its marginal cost) and `<name>-on` (defaults plus that one).
 */
function variantNames(available) {
  return ['base', 'control', 'all-on', ...available.flatMap((f) => [`${f.name}-off`, `${f.name}-on`])];
}

/** Resolves one variant name to { name, about, server, client }. */
function resolveVariant(name, available) {
  const allOn = Object.fromEntries(available.map((f) => [f.name, 'on']));
  if (name === 'base') return { name, about: 'defaults, as users run it', server: {}, client: {} };
  if (name === 'control') return { name, about: 'defaults, on a server of its own measured like every variant (any difference from base is the method, not a feature)', server: {}, client: {} };
  if (name === 'all-on') return { name, about: 'every available feature on', ...compose(available, allOn) };
  const match = /^(.+)-(on|off)$/.exec(name);
  const feature = match && available.find((f) => f.name === match[1]);
  if (!feature) return null;
  if (match[2] === 'off') {
    return { name, about: `everything on except ${feature.name}: ${feature.about}`, ...compose(available, Object.assign({}, allOn, { [feature.name]: 'off' })) };
  }
  return { name, about: `defaults plus ${feature.about}`, ...compose([feature], { [feature.name]: 'on' }) };
}

/**
 * The variants a run measures besides `base`. `requested` is a list of names
 * (or null for the default: `all-on` and every `<feature>-off`). Unknown names
 * throw; names of features that are not available yet become notes.
 */
function planVariants(requested, keys = knownConfigKeys()) {
  const { available, missing } = availableFeatures(keys);
  const notes = missing.length ? [`Feature switches not available in this build yet (their config keys are missing): ${missing.join('; ')}.`] : [];
  const names = requested || (available.length ? ['all-on', ...available.map((f) => `${f.name}-off`)] : []);
  const variants = [];
  for (const name of names) {
    if (name === 'base') continue;
    const variant = resolveVariant(name, available);
    if (variant) {
      variants.push(variant);
      continue;
    }
    const feature = FEATURES.find((f) => name === `${f.name}-on` || name === `${f.name}-off`);
    if (feature) notes.push(`Variant ${name} skipped: ${feature.name} is not available in this build.`);
    else throw new Error(`unknown variant ${name} (known: ${variantNames(FEATURES).join(', ')})`);
  }
  return { variants, notes };
}

module.exports = { FEATURES, ALWAYS, alwaysOverrides, planVariants, resolveVariant, availableFeatures, variantNames, knownConfigKeys };
