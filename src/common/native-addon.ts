import * as path from 'node:path';
import { PROJECT_ROOT } from './paths';

/** Where `npm ci` / `npm run build:native` put the addon named `name` (native/binding.gyp). */
export function nativeAddonPath(name: string): string {
  return path.join(PROJECT_ROOT, 'native', 'build', 'Release', `${name}.node`);
}

/**
 * The native addon at `file`, or why it cannot be used (not built, or built for another Node.js):
 * the reason is a sentence for a log line. Each caller keeps its own fallback.
 */
export function loadNativeAddon<T>(file: string): { addon: T } | { reason: string } {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return { addon: require(file) as T };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return {
      reason:
        code === 'MODULE_NOT_FOUND'
          ? `the native addon ${path.relative(PROJECT_ROOT, file)} is not built (npm run build:native; it needs python3, make and a C compiler)`
          : `the native addon cannot be loaded: ${(err as Error).message}`,
    };
  }
}
