/**
 * The acceptance scenario's source schema (../shared/seeds/000_*.txt): user_info and
 * user_session keyed by userid, the two log tables (keyed by an added serial8 id once the user
 * follows the blog's fix), N users, and the login/logout functions the pgbench load calls.
 */
import type pg from 'pg';

export interface SeedOptions {
  schema?: string;
  /** Users to create (the blog uses 200,000). */
  users?: number;
  /** Add the `id serial8 primary key` columns to the log tables (the blog's fix). */
  keyedLogs?: boolean;
  /** Create f_user_login / f_user_logout. */
  functions?: boolean;
}

export async function createSeedSchema(client: pg.ClientBase, options: SeedOptions = {}): Promise<void> {
  const s = options.schema ?? 'digoal_01';
  const users = options.users ?? 200_000;
  await client.query(`CREATE SCHEMA ${s}`);
  await client.query(`CREATE TABLE ${s}.user_info (userid int, engname text, cnname text, occupation text, birthday date,
      signname text, email text, qq numeric, crt_time timestamp without time zone, mod_time timestamp without time zone)`);
  await client.query(`CREATE TABLE ${s}.user_session (userid int, logintime timestamp(0) without time zone,
      login_count bigint DEFAULT 0, logouttime timestamp(0) without time zone, online_interval interval DEFAULT interval '0')`);
  await client.query(`CREATE TABLE ${s}.user_login_rec (userid int, login_time timestamp without time zone, ip inet)`);
  await client.query(`CREATE TABLE ${s}.user_logout_rec (userid int, logout_time timestamp without time zone, ip inet)`);
  if (users > 0) {
    await client.query(
      `INSERT INTO ${s}.user_info (userid, engname, cnname, occupation, birthday, signname, email, qq, crt_time, mod_time)
       SELECT g, 'digoal.zhou', '德哥', 'DBA', '1970-01-01', E'公益是一辈子的事, I\\'m Digoal.Zhou, Just do it!',
              'digoal@126.com', 276732431, clock_timestamp(), NULL
         FROM generate_series(1, $1) g`,
      [users],
    );
    await client.query(`INSERT INTO ${s}.user_session (userid) SELECT generate_series(1, $1)`, [users]);
  }
  await client.query(`ALTER TABLE ${s}.user_info ADD CONSTRAINT pk_user_info PRIMARY KEY (userid)`);
  await client.query(`ALTER TABLE ${s}.user_session ADD CONSTRAINT pk_user_session PRIMARY KEY (userid)`);
  if (options.keyedLogs === true) {
    await client.query(`ALTER TABLE ${s}.user_login_rec ADD COLUMN id serial8 PRIMARY KEY`);
    await client.query(`ALTER TABLE ${s}.user_logout_rec ADD COLUMN id serial8 PRIMARY KEY`);
  }
  if (options.functions === true) {
    // the blog's login: read the user, log the login with the client address, count it
    await client.query(`CREATE FUNCTION ${s}.f_user_login(i_userid int,
        OUT o_userid int, OUT o_engname text, OUT o_cnname text, OUT o_occupation text, OUT o_birthday date,
        OUT o_signname text, OUT o_email text, OUT o_qq numeric)
      LANGUAGE plpgsql AS $f$
      BEGIN
        SELECT userid, engname, cnname, occupation, birthday, signname, email, qq
          INTO o_userid, o_engname, o_cnname, o_occupation, o_birthday, o_signname, o_email, o_qq
          FROM ${s}.user_info WHERE userid = i_userid;
        INSERT INTO ${s}.user_login_rec (userid, login_time, ip) VALUES (i_userid, now(), inet_client_addr());
        UPDATE ${s}.user_session SET logintime = now(), login_count = login_count + 1 WHERE userid = i_userid;
      END $f$`);
    // and logout: log it and add the session time; errors are reported, not raised
    await client.query(`CREATE FUNCTION ${s}.f_user_logout(i_userid int, OUT o_result int)
      LANGUAGE plpgsql AS $f$
      BEGIN
        INSERT INTO ${s}.user_logout_rec (userid, logout_time, ip) VALUES (i_userid, now(), inet_client_addr());
        UPDATE ${s}.user_session SET logouttime = now(), online_interval = online_interval + (now() - logintime)
         WHERE userid = i_userid;
        o_result := 0;
      EXCEPTION WHEN others THEN
        o_result := 1;
      END $f$`);
  }
}

/** The pgbench script of the blog's load: one login and one logout of a random user. */
export function seedPgbenchScript(schema = 'digoal_01', users = 200_000): string {
  return `\\set userid random(1, ${users})\nSELECT ${schema}.f_user_login(:userid);\nSELECT ${schema}.f_user_logout(:userid);\n`;
}
