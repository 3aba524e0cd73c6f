// Nx generator: `npm run new-plugin -- --kind reward --name length-penalty`.
// Plain CommonJS so Nx loads it without a transpiler.
const path = require('node:path');
const { generateFiles, names, readJson, updateJson } = require('@nx/devkit');

const KINDS = ['reward', 'judge', 'backbone'];
/** What each kind's scaffold imports besides @medad/core (backbones build on the trainable VlmPolicy). */
const EXTRA_DEPS = { backbone: ['policy'] };
const ID = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/;

function validate(options) {
  if (!KINDS.includes(options.kind)) {
    throw new Error(`--kind "${options.kind}" is not supported. Fix: use one of: ${KINDS.join(', ')}`);
  }
  if (!ID.test(options.name || '')) {
    throw new Error(`--name "${options.name}" is not kebab-case. Fix: use lowercase letters, digits and dashes, e.g. length-penalty`);
  }
}

/** Scaffolds plugins/<kind>-<name> and references it from the root tsconfig. */
async function pluginGenerator(tree, options) {
  validate(options);
  const dirName = `${options.kind}-${options.name}`;
  const projectRoot = path.posix.join(options.directory || 'plugins', dirName);
  if (tree.exists(path.posix.join(projectRoot, 'package.json'))) {
    throw new Error(`${projectRoot} already exists. Fix: choose another --name or delete the folder`);
  }
  const rootPkg = readJson(tree, 'package.json');
  const n = names(options.name);
  const substitutions = {
    tmpl: '',
    kind: options.kind,
    id: options.name,
    dirName,
    className: n.className,
    propertyName: n.propertyName,
    packageName: `@medad/plugin-${dirName}`,
    description: options.description || `A ${options.kind} plugin: ${options.name}`,
    // Raw (unescaped) forms for JSON and TS string literals; templates use <%- %> with these.
    descriptionJson: JSON.stringify(options.description || `A ${options.kind} plugin: ${options.name}`),
    descriptionTs: JSON.stringify(options.description || `A ${options.kind} plugin: ${options.name}`).slice(1, -1).replace(/'/g, "\\'"),
    coreVersion: rootPkg.version || '0.1.0',
    dependenciesJson: JSON.stringify(Object.fromEntries(['core', ...(EXTRA_DEPS[options.kind] || [])].map((p) => [`@medad/${p}`, '*']))),
    referencesJson: JSON.stringify(['core', ...(EXTRA_DEPS[options.kind] || [])].map((p) => ({ path: `../../packages/${p}` }))),
  };
  generateFiles(tree, path.join(__dirname, '..', 'files', 'common'), projectRoot, substitutions);
  generateFiles(tree, path.join(__dirname, '..', 'files', options.kind), projectRoot, substitutions);
  updateJson(tree, 'tsconfig.json', (json) => {
    json.references = json.references || [];
    const ref = `./${projectRoot}`;
    if (!json.references.some((r) => r.path === ref)) json.references.push({ path: ref });
    return json;
  });
  return () => {
    console.log(`\nCreated ${projectRoot} (${substitutions.packageName}).`);
    console.log('Next: npm test  (builds it and runs its conformance test); npx medad plugins --kind ' + options.kind);
  };
}

module.exports = pluginGenerator;
module.exports.default = pluginGenerator;
module.exports.validate = validate;
