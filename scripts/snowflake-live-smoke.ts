/**
 * Live smoke test of the Snowflake Native App in a real account (not a jest test): deploy the
 * package from snowflake/app, install it, approve the app specification, set the API key, load,
 * query, run the seed README's examples, schedule and unschedule, upgrade in place, drop.
 *
 * Runs only when credentials are in the environment; otherwise prints a visible SKIPPED notice and
 * exits 0. Needs, besides `python3 scripts/generate.py` being current (it ships the handler zip):
 *   SNOWFLAKE_ACCOUNT, SNOWFLAKE_USER, SNOWFLAKE_PASSWORD or SNOWFLAKE_PRIVATE_KEY_PATH,
 *   SNOWFLAKE_WAREHOUSE, ORCHESTRA_API_KEY (a real key: the app can only reach app.getorchestra.io)
 *   optional: SNOWFLAKE_ROLE (default ACCOUNTADMIN: it creates an application package and an EAI),
 *             SNOWFLAKE_AUTHENTICATOR (e.g. SNOWFLAKE_JWT with a private key), SMOKE_KEEP=1 (no drop).
 * The API key is only ever sent as a bind variable and never printed.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Binds, Connection } from 'snowflake-sdk';

const REQUIRED = [
  'SNOWFLAKE_ACCOUNT',
  'SNOWFLAKE_USER',
  'SNOWFLAKE_WAREHOUSE',
  'ORCHESTRA_API_KEY',
];

type Row = Record<string, unknown>;

function repoRoot(): string {
  let dir = __dirname;
  while (!fs.existsSync(path.join(dir, 'package.json'))) {
    const up = path.dirname(dir);
    if (up === dir) throw new Error('cannot find the repository root (package.json)');
    dir = up;
  }
  return dir;
}

function missingSettings(): string[] {
  const missing = REQUIRED.filter((name) => !process.env[name]);
  if (!process.env.SNOWFLAKE_PASSWORD && !process.env.SNOWFLAKE_PRIVATE_KEY_PATH) {
    missing.push('SNOWFLAKE_PASSWORD or SNOWFLAKE_PRIVATE_KEY_PATH');
  }
  return missing;
}

class Session {
  constructor(
    private readonly conn: Connection,
    private readonly secret: string,
  ) {}

  /** Runs one statement; errors and logs never carry the API key (it only travels as a bind). */
  run(sqlText: string, binds: Binds = []): Promise<Row[]> {
    return new Promise((resolve, reject) => {
      this.conn.execute({
        sqlText,
        binds,
        complete: (err, _stmt, rows) => {
          if (err)
            reject(
              new Error(`${sqlText.split('\n')[0]}: ${err.message.split(this.secret).join('***')}`),
            );
          else resolve((rows ?? []) as Row[]);
        },
      });
    });
  }
}

function first(rows: Row[]): unknown {
  const row = rows[0] ?? {};
  return Object.values(row)[0];
}

function parse(value: unknown): Row {
  return (typeof value === 'string' ? JSON.parse(value) : value) as Row;
}

async function step<T>(label: string, action: () => Promise<T>): Promise<T> {
  const started = Date.now();
  const result = await action();
  console.log(`ok   ${label} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
  return result;
}

function expect(condition: boolean, message: string): void {
  if (!condition) throw new Error(`check failed: ${message}`);
}

async function deploy(db: Session, pkg: string, appDir: string): Promise<string> {
  await db.run(`CREATE APPLICATION PACKAGE IF NOT EXISTS ${pkg}`);
  await db.run(`CREATE SCHEMA IF NOT EXISTS ${pkg}.stage_content`);
  await db.run(`CREATE STAGE IF NOT EXISTS ${pkg}.stage_content.app_stage`);
  const stage = `@${pkg}.stage_content.app_stage`;
  const files = [
    'manifest.yml',
    'setup_script.sql',
    'README.md',
    'sql/tables.sql',
    'sql/state.sql',
    'python/orchestra_app.zip',
  ];
  for (const file of files) {
    const dir = path.posix.dirname(file);
    const target = dir === '.' ? stage : `${stage}/${dir}`;
    const local = path.join(appDir, file).split(path.sep).join('/');
    await db.run(`PUT 'file://${local}' '${target}' AUTO_COMPRESS = FALSE OVERWRITE = TRUE`);
  }
  return stage;
}

async function main(): Promise<number> {
  const missing = missingSettings();
  if (missing.length > 0) {
    console.log(`SKIPPED live Snowflake smoke test: set ${missing.join(', ')} to run it.`);
    return 0;
  }
  const env = process.env as Record<string, string>;
  const apiKey = env.ORCHESTRA_API_KEY;
  // Loaded only now: importing the driver is slow and noisy, and a skipped run needs none of it.
  const snowflake = (await import('snowflake-sdk')).default;
  snowflake.configure({ logLevel: 'ERROR' });
  const conn = snowflake.createConnection({
    account: env.SNOWFLAKE_ACCOUNT,
    username: env.SNOWFLAKE_USER,
    password: env.SNOWFLAKE_PASSWORD,
    privateKeyPath: env.SNOWFLAKE_PRIVATE_KEY_PATH,
    authenticator:
      env.SNOWFLAKE_AUTHENTICATOR ?? (env.SNOWFLAKE_PRIVATE_KEY_PATH ? 'SNOWFLAKE_JWT' : undefined),
    warehouse: env.SNOWFLAKE_WAREHOUSE,
    role: env.SNOWFLAKE_ROLE ?? 'ACCOUNTADMIN',
  });
  await conn.connectAsync();
  const db = new Session(conn, apiKey);
  const suffix = new Date().toISOString().replace(/\D/g, '').slice(0, 14);
  const pkg = `ORCHESTRA_SMOKE_PKG_${suffix}`;
  const app = `ORCHESTRA_SMOKE_${suffix}`;
  const appDir = path.join(repoRoot(), 'snowflake', 'app');
  try {
    const stage = await step('deploy the package files', () => deploy(db, pkg, appDir));
    await step('install the app (runs the setup script)', () =>
      db.run(`CREATE APPLICATION ${app} FROM APPLICATION PACKAGE ${pkg} USING '${stage}'`),
    );
    const specs = await db.run(`SHOW SPECIFICATIONS IN APPLICATION ${app}`);
    const spec = specs.find((s) => String(s.name).toUpperCase() === 'ORCHESTRA_API');
    expect(spec !== undefined, 'the app requested the ORCHESTRA_API specification');
    expect(
      String(spec?.definition).includes('app.getorchestra.io:443'),
      'it names app.getorchestra.io:443',
    );
    await step('approve the app specification', () =>
      db.run(
        `ALTER APPLICATION ${app} APPROVE SPECIFICATION ORCHESTRA_API SEQUENCE_NUMBER = ${Number(spec?.sequence_number)}`,
      ),
    );
    await step('set the API key (bound, never in the SQL text)', () =>
      db.run(`CALL ${app}.core.set_api_key(?)`, [apiKey]),
    );
    const check = parse(
      first(await step('test the connection', () => db.run(`CALL ${app}.core.test_connection()`))),
    );
    expect(check.ok === true, 'test_connection answers ok');
    const load = parse(
      first(await step('load all streams', () => db.run(`CALL ${app}.core.load_all()`))),
    );
    expect(
      load.status === 'SUCCEEDED',
      `load_all succeeded: ${JSON.stringify(load).slice(0, 300)}`,
    );
    const again = parse(
      first(await step('load again (incremental)', () => db.run(`CALL ${app}.core.load_all()`))),
    );
    expect(again.status === 'SUCCEEDED', 'the second load succeeded');
    const readme = [
      `SELECT ${app}.core.get_pipeline_runs()`,
      `SELECT ${app}.core.get_task_runs(2, 50)`,
      `SELECT ${app}.core.get_operations()`,
      `SELECT * FROM ${app}.public.pipeline_runs ORDER BY created_at DESC`,
      `SELECT * FROM ${app}.public.task_runs WHERE status = 'SUCCEEDED'`,
      `SELECT value:id::STRING AS pipeline_run_id, value:runStatus::STRING AS status FROM TABLE(FLATTEN(input => ${app}.core.get_pipeline_runs():results))`,
    ];
    for (const sql of readme) await step(`README example: ${sql.slice(0, 70)}`, () => db.run(sql));
    const status = await db.run(`SELECT * FROM ${app}.public.sync_status`);
    expect(
      status.length === 3 && status.every((r) => r.LAST_STATUS === 'SUCCEEDED'),
      'sync_status shows 3 successes',
    );
    const before = await db.run(
      `SELECT (SELECT COUNT(*) FROM ${app}.public.pipeline_runs) + (SELECT COUNT(*) FROM ${app}.public.task_runs) AS n`,
    );
    await step('enable and disable the schedule', async () => {
      await db.run(`CALL ${app}.core.enable_schedule('0 * * * *')`);
      await db.run(`CALL ${app}.core.disable_schedule()`);
    });
    await step('upgrade in place (setup script again)', () =>
      db.run(`ALTER APPLICATION ${app} UPGRADE USING '${stage}'`),
    );
    const after = await db.run(
      `SELECT (SELECT COUNT(*) FROM ${app}.public.pipeline_runs) + (SELECT COUNT(*) FROM ${app}.public.task_runs) AS n`,
    );
    expect(Number(after[0]?.N) >= Number(before[0]?.N), 'the upgrade kept every row');
    console.log(
      `live smoke test passed: ${JSON.stringify(load.streams ? Object.keys(load.streams as Row) : [])}`,
    );
    return 0;
  } finally {
    if (!process.env.SMOKE_KEEP) {
      await db
        .run(`DROP APPLICATION IF EXISTS ${app} CASCADE`)
        .catch((e: Error) => console.error(e.message));
      await db
        .run(`DROP APPLICATION PACKAGE IF EXISTS ${pkg}`)
        .catch((e: Error) => console.error(e.message));
      console.log(`dropped ${app} and ${pkg}`);
    }
    await new Promise<void>((resolve) => conn.destroy(() => resolve()));
  }
}

main().then(
  (code) => process.exit(code),
  (err: Error) => {
    console.error(`live smoke test FAILED: ${err.message}`);
    process.exit(1);
  },
);
