// The package runs in a browser Web Worker (DESIGN §4) and its UI-thread client must stay small:
// guard against Node-only APIs creeping into src/ and openpgp creeping into the client entry.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const srcDir = join(__dirname, '..', 'src');

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sources(path) : path.endsWith('.ts') ? [path] : [];
  });
}

describe('browser safety of src/', () => {
  it.each(sources(srcDir).map((p) => [relative(srcDir, p), p]))(
    '%s uses no Node-only module or global',
    (_name, path) => {
      const text = readFileSync(path, 'utf8')
        .replace(/\/\*[\s\S]*?\*\//g, '')
        .replace(/^\s*\/\/.*$/gm, '');
      expect(text).not.toMatch(
        /from ['"]node:|require\(|\bBuffer\b|\bprocess\.|__dirname|import\.meta/,
      );
    },
  );

  it('the UI-thread client entry imports only comlink and type-only modules', () => {
    const text = readFileSync(join(srcDir, 'worker', 'client.ts'), 'utf8');
    const imports = [...text.matchAll(/^(?:import|export) (type )?[^;]*from '([^']+)';$/gm)].map(
      (m) => ({ typeOnly: Boolean(m[1]), from: m[2] }),
    );
    const runtime = [...new Set(imports.filter((i) => !i.typeOnly).map((i) => i.from))];
    expect(imports.length).toBeGreaterThan(2);
    expect(runtime.sort()).toEqual(['./errors', 'comlink']);
    const errors = readFileSync(join(srcDir, 'worker', 'errors.ts'), 'utf8');
    expect([...errors.matchAll(/^import .*from '([^']+)';$/gm)].map((m) => m[1])).toEqual([
      'comlink',
    ]);
  });
});
