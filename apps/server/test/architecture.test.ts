import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const lib = join(__dirname, '..', 'src', 'lib');

describe("the server's import graph (STYLE §19: arrows run down, no circles)", () => {
  it('when a lib/ module imports, then never the composition root (services.ts, app.ts) or a component', () => {
    const offenders = readdirSync(lib)
      .filter((f) => f.endsWith('.ts'))
      .flatMap((f) =>
        [...readFileSync(join(lib, f), 'utf8').matchAll(/from '(\.\.\/[^']+)'/g)].map(
          (m) => `${f} → ${m[1]}`,
        ),
      );
    expect(offenders).toEqual([]);
  });
});
