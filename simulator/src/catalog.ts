/** The vocabulary the simulated workspace is built from: integrations, jobs, names and messages. */

export interface JobKind {
  integration: string;
  job: string;
  /** Typical task duration in seconds (median of a log-normal). */
  medianSeconds: number;
  /** Operations inserted per attempt: [min, max]. */
  ops: [number, number];
  opTypes: string[];
  taskNames: string[];
  /** Whether operations carry warehouse costs. */
  costs: 'Credits' | 'Bytes' | null;
}

export const JOB_KINDS: JobKind[] = [
  {
    integration: 'DBT_CORE',
    job: 'DBT_CORE_EXECUTE',
    medianSeconds: 420,
    ops: [4, 24],
    opTypes: ['MATERIALISATION', 'TEST', 'SEED', 'SNAPSHOT'],
    taskNames: ['dbt build', 'dbt run marts', 'dbt test staging', 'dbt snapshot'],
    costs: 'Credits',
  },
  {
    integration: 'SNOWFLAKE',
    job: 'SNOWFLAKE_RUN_QUERY',
    medianSeconds: 90,
    ops: [1, 3],
    opTypes: ['QUERY'],
    taskNames: ['Refresh aggregates', 'Merge orders', 'Unload to S3'],
    costs: 'Credits',
  },
  {
    integration: 'SNOWFLAKE',
    job: 'SNOWFLAKE_RUN_TEST',
    medianSeconds: 40,
    ops: [1, 6],
    opTypes: ['TEST'],
    taskNames: ['Row count checks', 'Freshness checks'],
    costs: 'Credits',
  },
  {
    integration: 'FIVETRAN',
    job: 'FIVETRAN_SYNC_ALL',
    medianSeconds: 900,
    ops: [1, 8],
    opTypes: ['INGESTION'],
    taskNames: ['Sync Salesforce', 'Sync Postgres replica', 'Sync HubSpot'],
    costs: null,
  },
  {
    integration: 'AIRBYTE_CLOUD',
    job: 'AIRBYTE_CLOUD_JOB',
    medianSeconds: 1200,
    ops: [1, 5],
    opTypes: ['INGESTION'],
    taskNames: ['Airbyte Stripe', 'Airbyte Zendesk'],
    costs: null,
  },
  {
    integration: 'GCP_BIG_QUERY',
    job: 'GCP_BQ_RUN_QUERY_JOB',
    medianSeconds: 120,
    ops: [1, 2],
    opTypes: ['QUERY'],
    taskNames: ['Build sessions table', 'Daily revenue'],
    costs: 'Bytes',
  },
  {
    integration: 'DATABRICKS',
    job: 'DATABRICKS_RUN_WORKFLOW',
    medianSeconds: 1500,
    ops: [0, 3],
    opTypes: ['OPERATION', 'MATERIALISATION'],
    taskNames: ['Feature engineering', 'Train churn model'],
    costs: null,
  },
  {
    integration: 'PYTHON',
    job: 'PYTHON_EXECUTE_SCRIPT',
    medianSeconds: 60,
    ops: [0, 1],
    opTypes: ['OPERATION'],
    taskNames: ['Validate inputs', 'Export report', 'Call vendor API'],
    costs: null,
  },
  {
    integration: 'HTTP',
    job: 'HTTP_REQUEST',
    medianSeconds: 3,
    ops: [0, 1],
    opTypes: ['TRIGGER'],
    taskNames: ['Notify downstream', 'Ping healthcheck'],
    costs: null,
  },
  {
    integration: 'POWER_BI',
    job: 'POWER_BI_REFRESH_DATASET',
    medianSeconds: 300,
    ops: [1, 2],
    opTypes: ['REFRESH'],
    taskNames: ['Refresh sales dashboard', 'Refresh finance dataset'],
    costs: null,
  },
  {
    integration: 'TABLEAU_CLOUD',
    job: 'TABLEAU_REFRESH_EXTRACT',
    medianSeconds: 240,
    ops: [1, 3],
    opTypes: ['REFRESH'],
    taskNames: ['Refresh extracts'],
    costs: null,
  },
  {
    integration: 'HIGHTOUCH',
    job: 'HIGHTOUCH_SYNC',
    medianSeconds: 180,
    ops: [1, 2],
    opTypes: ['REVERSE_ETL'],
    taskNames: ['Sync audiences to Braze'],
    costs: null,
  },
  {
    integration: 'SLACK',
    job: 'SEND_SLACK_MESSAGE',
    medianSeconds: 2,
    ops: [0, 0],
    opTypes: ['TRIGGER'],
    taskNames: ['Post summary to #data'],
    costs: null,
  },
  {
    integration: 'AWS_ECS',
    job: 'AWS_ECS_RUN_TASK',
    medianSeconds: 600,
    ops: [0, 1],
    opTypes: ['OPERATION'],
    taskNames: ['Run scraper container', 'Backfill job'],
    costs: null,
  },
];

export const ENVIRONMENTS = ['production', 'staging', 'development'];

export const PIPELINE_WORDS_A = [
  'daily',
  'hourly',
  'core',
  'finance',
  'marketing',
  'product',
  'sales',
  'ops',
  'growth',
  'ml',
];
export const PIPELINE_WORDS_B = [
  'ingest',
  'transform',
  'reporting',
  'refresh',
  'models',
  'exports',
  'quality',
  'sync',
  'warehouse',
  'features',
];

export const BRANCHES = ['main', 'main', 'main', 'release', 'feature/new-models'];

export const SCHEDULE_NAMES = ['Every hour', 'Nightly', 'Business hours', 'Frequent'];

export const PIPELINE_MESSAGES: Record<string, string> = {
  CREATED: 'Pipeline run created',
  RUNNING: 'Pipeline run in progress',
  SUCCEEDED: 'Pipeline run succeeded',
  WARNING: 'Pipeline run completed with warnings',
  FAILED: 'Pipeline run failed: one or more tasks failed',
  SKIPPED: 'Pipeline run skipped: a previous run is still in progress',
  CANCELLING: 'Pipeline run is being cancelled',
  CANCELLED: 'Pipeline run cancelled by user',
};

export const TASK_MESSAGES: Record<string, string> = {
  CREATED: 'Task created',
  QUEUED: 'Task queued',
  RUNNING: 'Task running',
  SUCCEEDED: 'Task succeeded',
  WARNING: 'Task completed with warnings: 1 test warned',
  FAILED: 'Task failed: "Database Error: relation \\"orders\\" does not exist"',
  SKIPPED: 'Task skipped because an upstream task failed',
  CANCELLING: 'Task is being cancelled',
  CANCELLED: 'Task cancelled',
};

export const EXTERNAL_STATUS: Record<string, string> = {
  CREATED: 'PENDING',
  QUEUED: 'PENDING',
  RUNNING: 'RUNNING',
  SUCCEEDED: 'SUCCESS',
  WARNING: 'SUCCESS_WITH_WARNINGS',
  FAILED: 'ERROR',
  SKIPPED: 'SKIPPED',
  CANCELLING: 'CANCELLING',
  CANCELLED: 'CANCELLED',
};

export const OP_NAMES = [
  'stg_orders',
  'stg_customers',
  'fct_revenue',
  'dim_accounts',
  'int_sessions',
  'not_null_orders_id',
  'unique_customers_id',
  'accepted_values_status',
  'raw_events',
  'mart_finance',
];
