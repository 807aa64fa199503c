/**
 * One step of the schema's history. Migrations are append-only: a released one is never edited,
 * a change is a new version. `statements` gets the quoted schema name and returns DDL to run in order,
 * inside the migrator's transaction (PostgreSQL DDL is transactional, so a step applies fully or not).
 */
export interface Migration {
  version: number;
  name: string;
  statements(schema: string): string[];
}
