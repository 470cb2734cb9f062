-- Privileges as londiste 3 grants them: public may read the lists; pgq_admin runs everything.
GRANT USAGE ON SCHEMA londiste TO public;
GRANT SELECT ON londiste.table_info, londiste.seq_info, londiste.applied_execute, londiste.pending_fkeys, londiste.table_error TO public;
GRANT SELECT, INSERT, UPDATE, DELETE ON londiste.table_info, londiste.seq_info, londiste.applied_execute,
      londiste.pending_fkeys, londiste.copy_backlog, londiste.table_error TO pgq_admin;
GRANT USAGE ON SEQUENCE londiste.table_info_nr_seq, londiste.seq_info_nr_seq, londiste.copy_backlog_ev_seq_seq TO pgq_admin;
-- a SECURITY DEFINER switch of session_replication_role: its owner's and superusers' only
REVOKE ALL ON FUNCTION londiste.set_session_replication_role(text, boolean) FROM public;
