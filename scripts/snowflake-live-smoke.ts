/**
 * Live smoke test of the Snowflake Native App in a real account (not a jest test), as a consumer
 * lives it: deploy version 1 of the package from snowflake/app, install it, check the integration
 * and the pending specification, see a network call refused before approval, approve, set the key,
 * load, query, run the seed README's examples, schedule every minute and wait for a scheduled run,
 * deploy version 2 and upgrade, check that rows, approval and the schedule survived (a scheduled run
 * of version 2 lands), then DROP APPLICATION ... CASCADE and check the integration is gone.
 *
 * Runs only when credentials are in the environment; otherwise prints a visible SKIPPED notice and
 * exits 0. Needs, besides `python3 scripts/generate.py` being current (it ships the handler zip):
 *   SNOWFLAKE_ACCOUNT, SNOWFLAKE_USER, SNOWFLAKE_PASSWORD or SNOWFLAKE_PRIVATE_KEY_PATH,
 *   SNOWFLAKE_WAREHOUSE, ORCHESTRA_API_KEY (a real key: the app can only reach app.getorchestra.io)
 *   optional: SNOWFLAKE_ROLE (default ACCOUNTADMIN: it creates an application package and approves
 *             the specification), SNOWFLAKE_AUTHENTICATOR (e.g. SNOWFLAKE_JWT with a private key),
 *             SMOKE_KEEP=1 (no drop), SMOKE_WAIT_S (how long to wait for a scheduled run, default 150).
 * The API key is only ever sent as a bind variable and never printed. Not run in CI (no account).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
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

/** Every file of the package, as `snow app bundle` ships it (snowflake/snowflake.yml). */
function packageFiles(appDir: string): string[] {
  const sql = fs
    .readdirSync(path.join(appDir, 'sql'))
    .filter((f) => f.endsWith('.sql'))
    .map((f) => `sql/${f}`);
  return ['manifest.yml', 'setup_script.sql', 'README.md', ...sql, 'python/orchestra_app.zip'];
}

/** Uploads one version of the package under @stage/<version>; version 2 differs in its manifest. */
async function deploy(db: Session, pkg: string, appDir: string, version: string): Promise<string> {
  await db.run(`CREATE APPLICATION PACKAGE IF NOT EXISTS ${pkg}`);
  await db.run(`CREATE SCHEMA IF NOT EXISTS ${pkg}.stage_content`);
  await db.run(`CREATE STAGE IF NOT EXISTS ${pkg}.stage_content.app_stage`);
  const stage = `@${pkg}.stage_content.app_stage/${version}`;
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), `orchestra-${version}-`));
  for (const file of packageFiles(appDir)) {
    let local = path.join(appDir, file);
    if (file === 'manifest.yml') {
      local = path.join(scratch, 'manifest.yml');
      const text = fs.readFileSync(path.join(appDir, file), 'utf8');
      fs.writeFileSync(local, text.replace(/name: v\d+_0/, `name: ${version}`));
    }
    const dir = path.posix.dirname(file);
    const target = dir === '.' ? stage : `${stage}/${dir}`;
    const url = local.split(path.sep).join('/');
    await db.run(`PUT 'file://${url}' '${target}' AUTO_COMPRESS = FALSE OVERWRITE = TRUE`);
  }
  return stage;
}

async function scheduledRuns(db: Session, app: string, since: string): Promise<number> {
  const rows = await db.run(
    `SELECT COUNT(*) AS N FROM ${app}.public.ingestion_history WHERE procedure_name = 'core.load_all' AND started_at > ?::TIMESTAMP_TZ`,
    [since],
  );
  return Number(rows[0]?.N ?? 0);
}

/** Waits until the every-minute schedule has run load_all at least once after `since`. */
async function waitForScheduledRun(db: Session, app: string, since: string): Promise<void> {
  const deadline = Date.now() + Number(process.env.SMOKE_WAIT_S ?? '150') * 1000;
  while (Date.now() < deadline) {
    if ((await scheduledRuns(db, app, since)) > 0) return;
    await new Promise((resolve) => setTimeout(resolve, 10_000));
  }
  throw new Error(`check failed: no scheduled core.load_all run since ${since}`);
}

async function now(db: Session): Promise<string> {
  return String(first(await db.run('SELECT TO_VARCHAR(CURRENT_TIMESTAMP()) AS T')));
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
  const eai = `${app}_ORCHESTRA_EAI`;
  const appDir = path.join(repoRoot(), 'snowflake', 'app');
  try {
    const v1 = await step('deploy version 1', () => deploy(db, pkg, appDir, 'v1_0'));
    await step('install the app (runs the setup script)', () =>
      db.run(`CREATE APPLICATION ${app} FROM APPLICATION PACKAGE ${pkg} USING '${v1}'`),
    );
    const integrations = await db.run(`SHOW EXTERNAL ACCESS INTEGRATIONS LIKE '${eai}'`);
    expect(integrations.length === 1, `the install created the integration ${eai}`);
    const specs = await db.run(`SHOW SPECIFICATIONS IN APPLICATION ${app}`);
    const spec = specs.find((s) => String(s.name).toUpperCase() === 'ORCHESTRA_API');
    expect(spec !== undefined && spec.status === 'PENDING', 'ORCHESTRA_API is requested, pending');
    expect(
      String(spec?.definition).includes('app.getorchestra.io:443'),
      'it names app.getorchestra.io:443',
    );
    const todo = String(first(await db.run(`CALL ${app}.core.create_eai_objects()`)));
    expect(
      todo.includes('ORCHESTRA_API') && todo.includes('core.set_api_key'),
      `create_eai_objects says what is missing: ${todo}`,
    );
    await step('set the API key (bound, never in the SQL text)', () =>
      db.run(`CALL ${app}.core.set_api_key(?)`, [apiKey]),
    );
    const refused = await db.run(`CALL ${app}.core.test_connection()`).then(
      () => '',
      (e: Error) => e.message,
    );
    expect(refused.includes('app specification'), `a call before approval is refused: ${refused}`);
    await step('approve the app specification', () =>
      db.run(
        `ALTER APPLICATION ${app} APPROVE SPECIFICATION ORCHESTRA_API SEQUENCE_NUMBER = ${Number(spec?.sequence_number)}`,
      ),
    );
    const check = parse(
      first(await step('test the connection', () => db.run(`CALL ${app}.core.test_connection()`))),
    );
    expect(check.ok === true, 'test_connection answers ok');
    const ready = String(first(await db.run(`CALL ${app}.core.create_eai_objects()`)));
    expect(ready.startsWith('Ready:'), `create_eai_objects reports ready: ${ready}`);
    const load = parse(
      first(await step('load all streams', () => db.run(`CALL ${app}.core.load_all()`))),
    );
    expect(
      load.status === 'SUCCEEDED',
      `load_all succeeded: ${JSON.stringify(load).slice(0, 300)}`,
    );
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
    const scheduledFrom = await now(db);
    await step('schedule every minute and wait for a scheduled run of version 1', async () => {
      await db.run(`CALL ${app}.core.enable_schedule('* * * * *')`);
      await waitForScheduledRun(db, app, scheduledFrom);
    });
    const count = `SELECT (SELECT COUNT(*) FROM ${app}.public.pipeline_runs) + (SELECT COUNT(*) FROM ${app}.public.task_runs) + (SELECT COUNT(*) FROM ${app}.public.operations) AS N`;
    const before = Number((await db.run(count))[0]?.N);
    const v2 = await step('deploy version 2', () => deploy(db, pkg, appDir, 'v2_0'));
    await step('upgrade to version 2 (its setup script runs)', () =>
      db.run(`ALTER APPLICATION ${app} UPGRADE USING '${v2}'`),
    );
    const after = Number((await db.run(count))[0]?.N);
    expect(after >= before, `the upgrade kept every row (${before} -> ${after})`);
    const approved = await db.run(`SHOW APPROVED SPECIFICATIONS IN APPLICATION ${app}`);
    expect(approved.length === 1, 'the approval survived the upgrade');
    const upgradedAt = await now(db);
    await step('wait for a scheduled run of version 2', () =>
      waitForScheduledRun(db, app, upgradedAt),
    );
    await db.run(`CALL ${app}.core.disable_schedule()`);
    console.log(
      `live smoke test passed: ${JSON.stringify(load.streams ? Object.keys(load.streams as Row) : [])}`,
    );
    return 0;
  } finally {
    if (!process.env.SMOKE_KEEP) {
      await db
        .run(`DROP APPLICATION IF EXISTS ${app} CASCADE`)
        .catch((e: Error) => console.error(e.message));
      const left = await db
        .run(`SHOW EXTERNAL ACCESS INTEGRATIONS LIKE '${eai}'`)
        .catch(() => [] as Row[]);
      if (left.length > 0) console.error(`the integration ${eai} survived DROP ... CASCADE`);
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
