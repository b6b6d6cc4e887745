// The layers of src/, top to bottom: a module may import its own layer and
// the layers below it, never one above, and no import cycle anywhere (type
// imports count: tsPreCompilationDeps). Checked by test/unit/layers.test.ts;
// by hand: npx depcruise src
const layers = [
  { name: 'cli', path: '^src/cli/' },
  { name: 'container', path: '^src/container/' },
  { name: 'state', path: '^src/state/' },
  { name: 'init', path: '^src/init/' },
  { name: 'plan', path: '^src/spec/plan\\.ts$' },
  // The config and the Linux mechanisms share a layer: checks.ts asks linux
  // what it supports, linux reads the config's types. The no-cycle rule keeps
  // the two from leaning on each other both ways.
  { name: 'config and linux', path: ['^src/spec/(?!plan\\.ts$)', '^src/linux/'] },
  { name: 'sys', path: '^src/sys/(?!constants\\.ts$)' },
  // Below sys: the FFI binding and its recording double translate errno and
  // flag values with these tables, which import nothing of runts.
  { name: 'kernel tables', path: '^src/sys/constants\\.ts$' },
];

// Imported by any layer; they import nothing but each other. (profile.ts:
// the timing marks of bench --profile; output.ts
// writes stdout and stderr: the CLI's output and the log's lines.)
const leaves = ['^src/errors\\.ts$', '^src/profile\\.ts$', '^src/poll\\.ts$', '^src/log\\.ts$', '^src/output\\.ts$'];

const paths = (layer) => [layer.path].flat();

const upward = layers.slice(1).map((layer, i) => ({
  name: `no-upward-import-from-${layer.name.replace(/ /g, '-')}`,
  comment: `${layer.name} may not import ${layers
    .slice(0, i + 1)
    .map((l) => l.name)
    .join(', ')}`,
  severity: 'error',
  from: { path: paths(layer) },
  to: { path: layers.slice(0, i + 1).flatMap(paths) },
}));

module.exports = {
  forbidden: [
    ...upward,
    {
      name: 'leaves-import-only-leaves',
      comment: 'errors, profile, poll, log and output are imported by every layer, so they import none of it',
      severity: 'error',
      from: { path: leaves },
      to: { path: '^src/', pathNot: leaves },
    },
    {
      name: 'no-unlayered-module',
      comment: 'every module under src/ is in a layer (or a leaf); a new place needs a rule here',
      severity: 'error',
      from: { path: '^src/', pathNot: [...layers.flatMap(paths), ...leaves] },
      to: {},
    },
    {
      name: 'no-import-of-unlayered-module',
      comment: 'every module under src/ is in a layer (or a leaf); a new place needs a rule here',
      severity: 'error',
      from: {},
      to: { path: '^src/', pathNot: [...layers.flatMap(paths), ...leaves] },
    },
    {
      name: 'no-cycle',
      comment: 'no import cycle, within a layer or across',
      severity: 'error',
      from: { path: '^src/' },
      to: { circular: true },
    },
  ],
  options: {
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    // Node's own modules (node:fs) are not part of the graph.
    includeOnly: '^src/',
  },
};
