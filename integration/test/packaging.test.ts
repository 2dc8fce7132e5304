import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { s3Settings, s3SettingsEnv, useBucket } from '@encrypted-stream/test-support';

/**
 * The packages as a user gets them: `pnpm pack` of each (what `pnpm publish`
 * uploads), installed with plain npm from the tarballs into an app outside the
 * workspace, next to another `@aws-sdk/client-s3` 3.x than the workspace's,
 * then an ES module, a CommonJS and a strict TypeScript program (from
 * `integration/packaging/`) run against the real S3 server, and the web
 * package's root entry is bundled for browsers with esbuild.
 *
 * Needs the packages built (`pnpm run build`) and the npm registry.
 */
const run = promisify(execFile);
const ROOT = resolve(__dirname, '../..');
const PROGRAMS = resolve(__dirname, '../packaging');
const PACKAGES = ['codec', 's3', 'gateway', 'kms', 'cli', 'web'];
/** Older than the workspace's client (3.1175.0), and the floor of the s3 package's peer range. */
const OTHER_SDK = '3.700.0';
const TSC = join(ROOT, 'node_modules/typescript/bin/tsc');

const bucket = useBucket('packaging');
const scratch = mkdtempSync(join(tmpdir(), 'es-packaging-'));
const app = join(scratch, 'app');
const tarballs: Record<string, string> = {};

/**
 * This process's environment without what the workspace's tooling adds: pnpm's
 * shims put the workspace's hoisted modules on NODE_PATH, where a consumer
 * program would find packages its own app never installed.
 */
const userEnv = Object.fromEntries(
  Object.entries(process.env).filter(
    ([name]) => name !== 'NODE_PATH' && !name.startsWith('npm_') && !name.startsWith('PNPM'),
  ),
);

/** Runs `file args` in `cwd` as a user's shell would, failing with its output. */
async function sh(cwd: string, file: string, args: string[], env: NodeJS.ProcessEnv = {}) {
  try {
    return await run(file, args, { cwd, env: { ...userEnv, ...env }, maxBuffer: 64 << 20 });
  } catch (error) {
    const { stdout, stderr } = error as { stdout?: string; stderr?: string };
    throw new Error(`${file} ${args.join(' ')} failed in ${cwd}:\n${stdout ?? ''}\n${stderr ?? ''}`);
  }
}

/** A fresh app directory holding the consumer programs and `manifest`, installed with npm. */
async function installApp(dir: string, dependencies: Record<string, string>): Promise<void> {
  cpSync(PROGRAMS, dir, { recursive: true });
  const manifest = { name: 'consumer', private: true, dependencies };
  writeFileSync(join(dir, 'package.json'), JSON.stringify(manifest, null, 2));
  await sh(dir, 'npm', ['install', '--no-audit', '--no-fund', '--loglevel=error']);
}

/** The S3 server and the test bucket, for a consumer program. */
function serverEnv(): NodeJS.ProcessEnv {
  return { ...s3SettingsEnv(s3Settings()), BUCKET: bucket.name, NODE_NO_WARNINGS: '1' };
}

beforeAll(async () => {
  for (const name of PACKAGES) {
    const dir = join(ROOT, 'packages', name);
    if (!existsSync(join(dir, 'dist'))) throw new Error(`packages/${name} is not built: run pnpm run build`);
    const before = new Set(readdirSync(scratch));
    await sh(dir, 'pnpm', ['pack', '--pack-destination', scratch]);
    const made = readdirSync(scratch).find((file) => file.endsWith('.tgz') && !before.has(file));
    if (!made) throw new Error(`pnpm pack of ${name} made no tarball`);
    tarballs[name] = join(scratch, made);
  }
  await installApp(app, {
    ...Object.fromEntries(PACKAGES.map((name) => [`@encrypted-stream/${name}`, `file:${tarballs[name]}`])),
    '@aws-sdk/client-s3': OTHER_SDK,
    '@aws-sdk/lib-storage': OTHER_SDK,
    '@types/node': '^20.19.0',
  });
}, 600_000);

afterAll(() => (process.env.KEEP_PACKAGING ? undefined : rmSync(scratch, { recursive: true, force: true })));

describe('the published tarballs', () => {
  test.each(PACKAGES)('%s ships LICENSE, README, types for every entry and no sources', async (name) => {
    const { stdout } = await sh(scratch, 'tar', ['-tzf', tarballs[name] as string]);
    const files = stdout.split('\n').filter(Boolean);
    expect(files).toEqual(expect.arrayContaining(['package/LICENSE', 'package/README.md', 'package/package.json']));
    expect(files.filter((file) => file.startsWith('package/src/') || file.endsWith('.ts.map'))).toEqual([]);
    const manifest = JSON.parse(
      readFileSync(join(app, 'node_modules/@encrypted-stream', name, 'package.json'), 'utf8'),
    );
    expect(manifest).toMatchObject({ license: 'MIT', engines: { node: '>=20' } });
    expect(JSON.stringify(manifest)).not.toContain('workspace:');
    for (const target of Object.values<Record<string, { types: string }>>(manifest.exports ?? {})) {
      if (typeof target !== 'object') continue;
      for (const condition of ['import', 'require'] as const) {
        expect(files).toContain(`package/${target[condition]?.types.slice(2)}`);
      }
    }
  });

  test('npm installed them next to another client-s3, without a peer conflict', () => {
    const installed = (name: string) =>
      JSON.parse(readFileSync(join(app, 'node_modules', name, 'package.json'), 'utf8')).version;
    expect(installed('@aws-sdk/client-s3')).toBe(OTHER_SDK);
    expect(installed('@aws-sdk/client-s3')).not.toBe(
      JSON.parse(readFileSync(join(ROOT, 'packages/s3/package.json'), 'utf8')).devDependencies['@aws-sdk/client-s3'],
    );
  });

  test('an ES module program', async () => {
    const { stdout } = await sh(app, 'node', ['esm.mjs'], serverEnv());
    expect(JSON.parse(stdout)).toEqual({ label: 'esm', ok: true });
  }, 120_000);

  test('a CommonJS program', async () => {
    const { stdout } = await sh(app, 'node', ['cjs.cjs'], serverEnv());
    expect(JSON.parse(stdout)).toEqual({ label: 'cjs', ok: true });
  }, 120_000);

  test('a strict TypeScript program (nodenext), compiled and run', async () => {
    const options = ['--strict', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--target', 'es2022'];
    await sh(app, 'node', [TSC, ...options, '--skipLibCheck', 'false', '--outDir', 'out', 'strict.mts']);
    const { stdout } = await sh(app, 'node', ['out/strict.mjs'], serverEnv());
    expect(JSON.parse(stdout)).toMatchObject({ label: 'strict-ts', ok: true });
  }, 120_000);

  test('types under the old moduleResolution node (CommonJS), subpaths included', async () => {
    const options = [
      '--strict',
      '--noEmit',
      '--module',
      'commonjs',
      '--moduleResolution',
      'node',
      '--target',
      'es2022',
    ];
    await sh(app, 'node', [TSC, ...options, '--esModuleInterop', 'legacy.ts']);
  }, 120_000);

  test('the CLI runs from its tarball', async () => {
    const bin = join(app, 'node_modules/.bin/encrypted-stream');
    const { stdout } = await sh(app, bin, ['--help']);
    expect(stdout).toContain('encrypted-stream');
    // The KMS keyring (loaded only when a KMS option is given) comes from the CLI's own bundle (dist/chunks/kms.js).
    await expect(
      sh(app, bin, ['encrypt', '--kms-key-id', 'arn:aws:kms:us-east-1:111122223333:alias/x']),
    ).rejects.toThrow(/--kms-key-id "arn:aws:kms:us-east-1:111122223333:alias\/x" is not a KMS key ARN/);
  });

  test('the web package: its root entry bundles for browsers from the tarballs, with no Node built-in reachable', async () => {
    // esbuild is the web package's dev dependency (integration has none of its own).
    const esbuild = require(
      join(ROOT, 'packages/web/node_modules/esbuild'),
    ) as typeof import('../../packages/web/node_modules/esbuild');
    const nodeImports: string[] = [];
    const result = await esbuild.build({
      absWorkingDir: app,
      entryPoints: ['browser.mjs'],
      bundle: true,
      write: false,
      metafile: true,
      platform: 'browser',
      format: 'esm',
      // As an application bundling the built packages must (see packages/web/test/helpers/bundle.ts).
      mainFields: ['browser', 'module', 'main'],
      logLevel: 'silent',
      plugins: [
        {
          name: 'no-node-builtins',
          setup(build) {
            const builtins = new Set(require('node:module').builtinModules as string[]);
            // A Node built-in is fine only where a package's `browser` field disables it (libsodium's crypto).
            build.onResolve({ filter: /.*/ }, async (args) => {
              if (args.pluginData === 'checking') return undefined;
              if (!args.path.startsWith('node:') && !builtins.has(args.path)) return undefined;
              const { kind, importer, resolveDir } = args;
              const resolved = await build.resolve(args.path, { kind, importer, resolveDir, pluginData: 'checking' });
              if (resolved.errors.length === 0 && !resolved.external) return undefined;
              nodeImports.push(`${args.path} from ${importer.slice(app.length)}`);
              return { path: args.path, external: true };
            });
          },
        },
      ],
    });
    expect(nodeImports).toEqual([]);
    const inputs = Object.keys(result.metafile.inputs);
    // From the installed tarballs, not the workspace; the codec's web build, never its node entry.
    expect(inputs.some((path) => path.startsWith('node_modules/@encrypted-stream/web/dist/'))).toBe(true);
    expect(inputs.some((path) => path.startsWith('node_modules/@encrypted-stream/codec/dist/'))).toBe(true);
    const outside = inputs.filter((path) => !path.startsWith('node_modules/') && !path.startsWith('(disabled):'));
    expect(outside).toEqual(['browser.mjs']);
    expect(inputs.filter((path) => path.includes('/codec/dist/node/'))).toEqual([]);
    expect(result.outputFiles[0]?.text).toContain('serveEncryptedMedia');
  }, 120_000);

  test("the web package's types, strict nodenext with the DOM lib", async () => {
    const options = ['--strict', '--noEmit', '--module', 'nodenext', '--moduleResolution', 'nodenext'];
    await sh(app, 'node', [
      TSC,
      ...options,
      '--target',
      'es2022',
      '--lib',
      'es2022,dom',
      '--skipLibCheck',
      'false',
      'web.mts',
    ]);
  }, 120_000);

  test('without lib-storage (an optional peer), the root entries load and only /upload asks for it', async () => {
    const lean = join(scratch, 'lean');
    await installApp(lean, {
      '@encrypted-stream/codec': `file:${tarballs.codec}`,
      '@encrypted-stream/s3': `file:${tarballs.s3}`,
      '@aws-sdk/client-s3': OTHER_SDK,
    });
    expect(existsSync(join(lean, 'node_modules/@aws-sdk/lib-storage'))).toBe(false);
    const probe = [
      "const s3 = require('@encrypted-stream/s3');",
      "if (typeof s3.getEncryptionPlugin !== 'function') throw new Error('no plugin');",
      "import('@encrypted-stream/s3').then((m) => { if (!m.getEncryptionPlugin) throw new Error('esm'); });",
      "try { require('@encrypted-stream/s3/upload'); console.log('loaded'); } catch (e) { console.log(e.code, e.message.split('\\n')[0]); }",
    ].join('\n');
    const { stdout } = await sh(lean, 'node', ['-e', probe]);
    expect(stdout.trim()).toBe("MODULE_NOT_FOUND Cannot find module '@aws-sdk/lib-storage'");
  }, 300_000);
});
