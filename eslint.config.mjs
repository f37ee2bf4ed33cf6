// Lint: the routing engine stays pure (no Nest, TypeORM or dns2 under src/routing/, and no
// relative import out of it), and imports between the folders of src/ run down the floors below.
import * as path from 'node:path';
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';

const SRC = path.join(import.meta.dirname, 'src');
const ROUTING = path.join(SRC, 'routing');

/**
 * The floors of src/, lowest first. A module may import from its own floor and the floors below,
 * never from a floor above: higher floors reach lower ones through events (src/common/events.ts)
 * and ports bound in app.module.ts. Files directly in src/ (the application root) are the top.
 */
export const FLOORS = [
  ['routing'], // the pure engine: imports nothing else in src/
  ['common', 'config'], // helpers, the event catalogue, the validated configuration
  ['registry'], // the operator's zones, regions and services
  ['database', 'metrics', 'geo'], // infrastructure: connection and migrations, metrics, GeoIP
  ['snapshot'], // the one RoutingSnapshot, built from the registry and health
  ['health', 'cluster', 'ops', 'anycast', 'residency', 'route', 'ui', 'tokens', 'audit', 'notifications', 'measurements'],
  ['replication', 'dns', 'redirect'],
];
/** The imports allowed to run up, each with its reason. */
const UPWARD_EXCEPTIONS = [
  // The problem filter answers 503 (not 500) when the database is unreachable.
  { from: 'common/problem.filter.ts', to: 'database/db-errors.ts' },
];

const floorOf = (folder) => {
  const i = FLOORS.findIndex((names) => names.includes(folder));
  return i < 0 ? FLOORS.length : i;
};

/** Relative import sources of a module, with their nodes (import, export ... from, import()). */
function onImport(check) {
  const visit = (node) => {
    if (node.source && typeof node.source.value === 'string' && node.source.value.startsWith('.')) check(node, node.source.value);
  };
  return { ImportDeclaration: visit, ExportAllDeclaration: visit, ExportNamedDeclaration: visit, ImportExpression: visit };
}

const georoute = {
  rules: {
    'routing-stays-pure': {
      meta: { type: 'problem', schema: [], messages: { out: 'src/routing is pure: no imports from the framework-facing folders of src/ ({{target}}).' } },
      create(context) {
        return onImport((node, source) => {
          const target = path.resolve(path.dirname(context.filename), source);
          const inSrc = target.startsWith(SRC + path.sep);
          if (inSrc && target !== ROUTING && !target.startsWith(ROUTING + path.sep)) {
            context.report({ node, messageId: 'out', data: { target: path.relative(SRC, target) } });
          }
        });
      },
    },
    'import-floors': {
      meta: { type: 'problem', schema: [], messages: { up: '{{from}}/ (floor {{fromFloor}}) must not import {{target}} (floor {{toFloor}}): emit an event or bind a port in app.module.ts instead (eslint.config.mjs FLOORS).' } },
      create(context) {
        const file = path.relative(SRC, context.filename);
        if (file.startsWith('..')) return {};
        const from = file.includes(path.sep) ? file.split(path.sep)[0] : null;
        return onImport((node, source) => {
          const target = path.relative(SRC, path.resolve(path.dirname(context.filename), source));
          if (target.startsWith('..') || !target.includes(path.sep) || from === null) return;
          const to = target.split(path.sep)[0];
          const [fromFloor, toFloor] = [floorOf(from), floorOf(to)];
          if (toFloor <= fromFloor) return;
          if (UPWARD_EXCEPTIONS.some((e) => e.from === file.split(path.sep).join('/') && e.to === `${target.split(path.sep).join('/')}.ts`)) return;
          context.report({ node, messageId: 'up', data: { from, fromFloor, target, toFloor } });
        });
      },
    },
  },
};

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', 'data/**', 'bench/out/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'off',
    },
  },
  {
    files: ['**/*.js', '**/*.mjs', '**/*.cjs'],
    languageOptions: { globals: { ...globals.node } },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    files: ['src/ui/public/**/*.js', 'src/measurements/public/**/*.js'],
    languageOptions: { globals: { ...globals.browser } },
  },
  {
    files: ['src/**/*.ts'],
    plugins: { georoute },
    rules: { 'georoute/import-floors': 'error' },
  },
  {
    files: ['src/routing/**/*.ts'],
    plugins: { georoute },
    rules: {
      'georoute/routing-stays-pure': 'error',
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['@nestjs/*'], message: 'src/routing is pure: no NestJS imports.' },
            { group: ['typeorm', 'typeorm/*'], message: 'src/routing is pure: no TypeORM imports.' },
            { group: ['dns2', 'dns2/*'], message: 'src/routing is pure: no dns2 imports.' },
          ],
        },
      ],
    },
  },
);
