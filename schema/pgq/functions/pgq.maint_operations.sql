-- pgq.maint_operations(): the maintenance work due now, as (func_name, func_arg) rows for the
-- ticker daemon to run one by one, each in its own transaction: table rotation, per-queue extra
-- maintenance functions, VACUUM of hot tables, and the cascade/replication housekeeping of
-- pgq_node and londiste when those are installed. func_name 'vacuum' means VACUUM func_arg.
CREATE OR REPLACE FUNCTION pgq.maint_operations(OUT func_name text, OUT func_arg text)
RETURNS SETOF record
LANGUAGE plpgsql
AS $$
DECLARE
    v_rotations integer := 0;
    v_ops       text[];
    v_op        text;
BEGIN
    func_name := 'pgq.maint_rotate_tables_step1';
    FOR func_arg IN
        SELECT queue_name FROM pgq.queue
         WHERE queue_rotation_period IS NOT NULL
           AND queue_switch_step2 IS NOT NULL
           AND queue_switch_time + queue_rotation_period < current_timestamp
         ORDER BY 1
    LOOP
        v_rotations := v_rotations + 1;
        RETURN NEXT;
    END LOOP;
    -- step2 must follow in a later transaction, also for switches left half-done earlier
    IF v_rotations = 0 THEN
        SELECT count(*) INTO v_rotations FROM pgq.queue
         WHERE queue_rotation_period IS NOT NULL AND queue_switch_step2 IS NULL;
    END IF;
    IF v_rotations > 0 THEN
        func_name := 'pgq.maint_rotate_tables_step2';
        func_arg := NULL;
        RETURN NEXT;
    END IF;

    FOR func_arg, v_ops IN
        SELECT queue_name, queue_extra_maint FROM pgq.queue WHERE queue_extra_maint IS NOT NULL ORDER BY 1
    LOOP
        FOREACH v_op IN ARRAY v_ops LOOP
            func_name := v_op;
            RETURN NEXT;
        END LOOP;
    END LOOP;

    func_name := 'vacuum';
    FOR func_arg IN SELECT t FROM pgq.maint_tables_to_vacuum() t LOOP
        RETURN NEXT;
    END LOOP;

    IF to_regprocedure('pgq_node.maint_watermark(text)') IS NOT NULL THEN
        func_name := 'pgq_node.maint_watermark';
        FOR func_arg IN EXECUTE 'SELECT queue_name FROM pgq_node.node_info WHERE node_type = ''root'' ORDER BY 1' LOOP
            RETURN NEXT;
        END LOOP;
    END IF;

    IF to_regprocedure('londiste.root_check_seqs(text)') IS NOT NULL THEN
        func_name := 'londiste.root_check_seqs';
        FOR func_arg IN EXECUTE
            'SELECT DISTINCT s.queue_name FROM londiste.seq_info s'
            ' JOIN pgq_node.node_info n ON n.queue_name = s.queue_name'
            ' WHERE s.local AND n.node_type = ''root'' ORDER BY 1'
        LOOP
            RETURN NEXT;
        END LOOP;
    END IF;

    IF to_regprocedure('londiste.periodic_maintenance()') IS NOT NULL THEN
        func_name := 'londiste.periodic_maintenance';
        func_arg := NULL;
        RETURN NEXT;
    END IF;
END;
$$;
