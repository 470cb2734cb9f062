/** The seed scenario's source tables (digoal_01), small, for admin command tests. */
import type pg from 'pg';

export async function createSeedTables(client: pg.ClientBase, schema = 'digoal_01', users = 100): Promise<void> {
  await client.query(`CREATE SCHEMA ${schema}`);
  await client.query(`CREATE TABLE ${schema}.user_info (userid int PRIMARY KEY, engname text, cnname text, occupation text,
      birthday date, signname text, email text, qq numeric, crt_time timestamp without time zone, mod_time timestamp without time zone)`);
  await client.query(`CREATE TABLE ${schema}.user_session (userid int PRIMARY KEY, logintime timestamp(0) without time zone,
      login_count bigint DEFAULT 0, logouttime timestamp(0) without time zone, online_interval interval DEFAULT '0')`);
  await client.query(`CREATE TABLE ${schema}.user_login_rec (userid int, login_time timestamp without time zone, ip inet)`);
  await client.query(`CREATE TABLE ${schema}.user_logout_rec (userid int, logout_time timestamp without time zone, ip inet)`);
  if (users > 0) {
    await client.query(`INSERT INTO ${schema}.user_info SELECT i, 'digoal.zhou', '德哥', 'DBA', '1970-01-01', '', 'digoal@126.com', 276732431, clock_timestamp(), NULL
                          FROM generate_series(1, $1) i`, [users]);
    await client.query(`INSERT INTO ${schema}.user_session (userid) SELECT generate_series(1, $1)`, [users]);
  }
}
