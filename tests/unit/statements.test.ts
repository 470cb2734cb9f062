// The per-table statements, as text: identifiers quoted where PostgreSQL needs it, the --where
// condition wrapped so NULL means "does not match", and DDL re-pointed at a renamed target.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { copyInSql, copyOutSql, createTableStatements, StageStatements } from '@skytools/londiste/internal';

describe('per-table statements', () => {
  it('quote every identifier that needs it', () => {
    const s = new StageStatements('Odd Schema.user', 'ld_stage_1', ['id', 'Value', 'order'], ['id']);
    assert.equal(s.deleteGone(), `DELETE FROM "Odd Schema"."user" d USING ld_stage_1 s WHERE s.ld_op = 'd' AND d.id = s.id`);
    assert.equal(s.updateExisting(), `UPDATE "Odd Schema"."user" d SET "Value" = s."Value", "order" = s."order" FROM ld_stage_1 s WHERE s.ld_op = 'u' AND d.id = s.id`);
    assert.deepEqual(
      s.upsertNew(),
      [`INSERT INTO "Odd Schema"."user" (id, "Value", "order") SELECT id, "Value", "order" FROM ld_stage_1 WHERE ld_op = 'i' ON CONFLICT (id) DO UPDATE SET "Value" = EXCLUDED."Value", "order" = EXCLUDED."order"`],
    );
    assert.equal(copyInSql('public.t', ['a', 'B']), 'COPY public.t (a, "B") FROM STDIN');
    assert.equal(copyOutSql('public.t', ['a'], 'a < 10'), 'COPY (SELECT a FROM public.t WHERE a < 10) TO STDOUT');
  });

  it('treat a --where condition that is NULL as not matching, and key-only tables as nothing to update', () => {
    const s = new StageStatements('public.k', 'st', ['a', 'b'], ['a', 'b']);
    assert.equal(s.canUpdate, false);
    assert.match(s.upsertNew().join(';'), /ON CONFLICT \(a, b\) DO NOTHING$/);
    assert.equal(s.insertMissing(), `INSERT INTO public.k (a, b) SELECT a, b FROM (SELECT * FROM st WHERE ld_op = 'u') s ON CONFLICT (a, b) DO NOTHING`);
    assert.match(s.upsertMatched('b > 1').join(';'), /WHERE ld_op <> 'd' AND coalesce\(\(b > 1\), false\) ON CONFLICT/);
    assert.match(s.deleteUnmatched('b > 1'), /USING \(SELECT a, b FROM st WHERE ld_op = 'd' OR NOT coalesce\(\(b > 1\), false\)\) s WHERE d\.a = s\.a AND d\.b = s\.b$/);
  });

  it('merge without ON CONFLICT where the key is DEFERRABLE (no arbiter): update what the target has, insert the rest', () => {
    const s = new StageStatements('public.t', 'st', ['id', 'v'], ['id'], new Set(), false, true);
    assert.deepEqual(s.upsertMatched('v > 1'), [
      `UPDATE public.t d SET v = s.v FROM (SELECT * FROM st WHERE ld_op <> 'd' AND coalesce((v > 1), false)) s WHERE d.id = s.id`,
      `INSERT INTO public.t (id, v) SELECT id, v FROM (SELECT * FROM st WHERE ld_op <> 'd' AND coalesce((v > 1), false)) s WHERE NOT EXISTS (SELECT 1 FROM public.t d WHERE d.id = s.id)`,
    ]);
    const keyOnly = new StageStatements('public.k', 'st', ['a'], ['a'], new Set(), false, true);
    assert.equal(keyOnly.insertMissing(), `INSERT INTO public.k (a) SELECT a FROM (SELECT * FROM st WHERE ld_op = 'u') s WHERE NOT EXISTS (SELECT 1 FROM public.k d WHERE d.a = s.a)`);
    assert.deepEqual(keyOnly.upsertNew(), [`INSERT INTO public.k (a) SELECT a FROM (SELECT * FROM st WHERE ld_op = 'i') s WHERE NOT EXISTS (SELECT 1 FROM public.k d WHERE d.a = s.a)`]);
  });

  it('create a renamed table with its key, and in full mode its defaults (not a generated column\'s expression), constraints and indexes', () => {
    const def = {
      columns: [
        { name: 'id', type: 'integer', notnull: true, def: "nextval('user_info_id_seq'::regclass)", pk: true, category: 'N', builtin: true, generated: false, identity: '' },
        { name: 'name', type: 'text', notnull: false, def: "'x'::text", pk: false, category: 'S', builtin: true, generated: false, identity: '' },
        { name: 'twice', type: 'integer', notnull: false, def: '(id * 2)', pk: false, category: 'N', builtin: true, generated: true, identity: '' },
      ],
      constraints: [
        { name: 'user_info_pkey', type: 'p' as const, def: 'PRIMARY KEY (id)', index: 'user_info_pkey' },
        { name: 'user_info_name_check', type: 'c' as const, def: 'CHECK (length(name) < 10)', index: null },
      ],
      indexes: [
        { name: 'user_info_pkey', def: 'CREATE UNIQUE INDEX user_info_pkey ON digoal_01.user_info USING btree (id)', ownConstraint: true, needed: true, keepsMore: false, foreignKeyTarget: false },
        { name: 'user_info_name_idx', def: 'CREATE INDEX user_info_name_idx ON digoal_01.user_info USING btree (name)', ownConstraint: false, needed: false, keepsMore: false, foreignKeyTarget: false },
      ],
    };
    assert.deepEqual(createTableStatements(def, 'digoal_01.user_info', 'digoal_02.user_info1', 'minimal'), [
      'CREATE SCHEMA IF NOT EXISTS digoal_02',
      'CREATE TABLE digoal_02.user_info1 (id integer NOT NULL, name text, twice integer)',
      'ALTER TABLE digoal_02.user_info1 ADD CONSTRAINT user_info1_pkey PRIMARY KEY (id)',
    ]);
    assert.deepEqual(createTableStatements(def, 'digoal_01.user_info', 'digoal_02.user_info1', 'full'), [
      'CREATE SCHEMA IF NOT EXISTS digoal_02',
      "CREATE TABLE digoal_02.user_info1 (id integer NOT NULL, name text DEFAULT 'x'::text, twice integer)",
      'ALTER TABLE digoal_02.user_info1 ADD CONSTRAINT user_info1_pkey PRIMARY KEY (id)',
      'ALTER TABLE digoal_02.user_info1 ADD CONSTRAINT user_info1_name_check CHECK (length(name) < 10)',
      'CREATE INDEX user_info1_name_idx ON digoal_02.user_info1 USING btree (name)',
    ]);
  });
});
