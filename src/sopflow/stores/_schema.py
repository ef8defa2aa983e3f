"""Schema and migrations, shared by the SQL backends.

Each migration is a list of statements written once in a neutral dialect; ``{pk}``,
``{blob}`` and ``{bigint}`` are filled per backend; a ``(backend, statement)`` pair runs
on that backend only (``SqlStore.backend``). The database records the version it
is at in ``sopflow_meta``; a database written by a newer sopflow is refused rather than
guessed at.
"""

from __future__ import annotations

SCHEMA_VERSION = 12

MIGRATIONS: dict[int, list[str | tuple[str, str]]] = {
    1: [
        """CREATE TABLE IF NOT EXISTS sopflow_meta (
            key TEXT PRIMARY KEY,
            value TEXT NOT NULL)""",
        # A definition is stored once per version (sha256 of the BPMN bytes).
        """CREATE TABLE sopflow_definitions (
            id {pk},
            version TEXT NOT NULL UNIQUE,
            process_id TEXT NOT NULL,
            source TEXT NOT NULL,
            xml {blob} NOT NULL)""",
        # Instance state is a small JSON document: the token's position and the data.
        """CREATE TABLE sopflow_instances (
            id {pk},
            uuid TEXT NOT NULL UNIQUE,
            definition INTEGER NOT NULL REFERENCES sopflow_definitions(id),
            status TEXT NOT NULL,
            state TEXT NOT NULL,
            revision INTEGER NOT NULL,
            started_at {bigint} NOT NULL,
            started_by TEXT NOT NULL,
            last_action_at {bigint} NOT NULL,
            ended_at {bigint},
            cancel_reason TEXT)""",
        "CREATE INDEX sopflow_instances_status ON sopflow_instances(status, definition)",
        # The step-timing table: one row each time a step becomes ready.
        """CREATE TABLE sopflow_steps (
            id {pk},
            instance INTEGER NOT NULL REFERENCES sopflow_instances(id),
            task TEXT NOT NULL,
            step_no INTEGER,
            role TEXT,
            ready_at {bigint} NOT NULL,
            due_at {bigint},
            risk_at {bigint},
            standard TEXT,
            completed_at {bigint},
            actor TEXT,
            claimed_by TEXT,
            data TEXT,
            path TEXT)""",
        "CREATE INDEX sopflow_steps_instance ON sopflow_steps(instance)",
        # An instance's open step, found without reading its completed passes: keeps the
        # cost of an action flat however many returns the instance went through.
        """CREATE INDEX sopflow_steps_instance_open ON sopflow_steps(instance)
            WHERE completed_at IS NULL""",
        # Open steps only: the SLA scan and the work list read this partial index.
        """CREATE INDEX sopflow_steps_open ON sopflow_steps(due_at, role)
            WHERE completed_at IS NULL""",
        """CREATE TABLE sopflow_audit (
            id {pk},
            instance INTEGER NOT NULL REFERENCES sopflow_instances(id),
            at {bigint} NOT NULL,
            event TEXT NOT NULL,
            payload TEXT NOT NULL)""",
        "CREATE INDEX sopflow_audit_instance ON sopflow_audit(instance)",
    ],
    # SLA escalations already notified: one row per step and status (at_risk, breached),
    # so the hook runs once per status change even across monitor processes.
    2: [
        """CREATE TABLE sopflow_escalations (
            step {bigint} NOT NULL REFERENCES sopflow_steps(id),
            status TEXT NOT NULL,
            at {bigint} NOT NULL,
            PRIMARY KEY (step, status))""",
    ],
    # Many tokens (sopflow 0.2): a step row says which token (branch) and pass it is,
    # the multi-instance item it is for, and how it closed: completed, or cancelled /
    # terminated with the reason, so a report can count a step a sibling branch ended.
    # Rows closed before have outcome 'completed'. A call activity's child instance
    # points at its parent instance and the parent's waiting token.
    3: [
        "ALTER TABLE sopflow_steps ADD COLUMN token {bigint}",
        "ALTER TABLE sopflow_steps ADD COLUMN pass_no INTEGER",
        "ALTER TABLE sopflow_steps ADD COLUMN item TEXT",
        "ALTER TABLE sopflow_steps ADD COLUMN outcome TEXT",
        "ALTER TABLE sopflow_steps ADD COLUMN reason TEXT",
        "UPDATE sopflow_steps SET outcome = 'completed' WHERE completed_at IS NOT NULL",
        # (task, instance, ...) and not (instance, ...): an index led by instance would
        # lure the planner away from the open-steps partial index for "this instance's
        # open steps", and that read would walk every pass ever recorded.
        "CREATE INDEX sopflow_steps_pass ON sopflow_steps(task, instance, pass_no)",
        """UPDATE sopflow_steps SET pass_no = (SELECT COUNT(*) FROM sopflow_steps e
            WHERE e.instance = sopflow_steps.instance AND e.task = sopflow_steps.task
            AND e.id <= sopflow_steps.id)""",
        "ALTER TABLE sopflow_instances ADD COLUMN parent {bigint} REFERENCES sopflow_instances(id)",
        "ALTER TABLE sopflow_instances ADD COLUMN parent_token {bigint}",
        """CREATE INDEX sopflow_instances_parent ON sopflow_instances(parent)
            WHERE parent IS NOT NULL""",
    ],
    # The staff directory, the unit of each instance, who signed each step as what, and
    # the hash chain over each instance's audit and step rows (docs/authority.md).
    4: [
        """CREATE TABLE sopflow_units (
            kode TEXT PRIMARY KEY,
            nama TEXT NOT NULL,
            induk TEXT)""",
        """CREATE TABLE sopflow_positions (
            kode TEXT PRIMARY KEY,
            nama TEXT NOT NULL,
            unit TEXT NOT NULL,
            peran TEXT NOT NULL)""",
        """CREATE TABLE sopflow_people (
            nip TEXT PRIMARY KEY,
            nama TEXT NOT NULL)""",
        """CREATE TABLE sopflow_assignments (
            id {pk},
            nip TEXT NOT NULL,
            jabatan TEXT NOT NULL,
            mulai TEXT NOT NULL,
            selesai TEXT,
            jenis TEXT NOT NULL,
            dasar TEXT NOT NULL)""",
        """CREATE TABLE sopflow_instance_units (
            instance {bigint} PRIMARY KEY REFERENCES sopflow_instances(id),
            unit TEXT NOT NULL)""",
        "CREATE INDEX sopflow_instance_units_unit ON sopflow_instance_units(unit)",
        """CREATE TABLE sopflow_step_holdings (
            step {bigint} PRIMARY KEY REFERENCES sopflow_steps(id),
            nip TEXT NOT NULL,
            nama TEXT,
            position TEXT,
            position_name TEXT,
            unit TEXT,
            kind TEXT NOT NULL,
            basis TEXT)""",
        """CREATE TABLE sopflow_chain (
            id {pk},
            instance {bigint} NOT NULL REFERENCES sopflow_instances(id),
            kind TEXT NOT NULL,
            row_id {bigint} NOT NULL,
            digest TEXT NOT NULL,
            hash TEXT NOT NULL)""",
        "CREATE INDEX sopflow_chain_instance ON sopflow_chain(instance, id)",
        # Instances written before the chain existed cannot be verified; every later one
        # must have a chain, so deleting an instance's chain rows is itself detected.
        """CREATE TABLE sopflow_chain_start AS
            SELECT COALESCE(MAX(id), 0) AS after_id FROM sopflow_instances""",
        # Bumped by every directory write, so each process knows when its cache is stale.
        "CREATE TABLE sopflow_directory_rev (rev {bigint} NOT NULL)",
        "INSERT INTO sopflow_directory_rev (rev) VALUES (0)",
    ],
    # The SLA change scan (stores/_slasql.py): steps that turned at risk between two
    # scans are a range of this partial index, as breaches are of sopflow_steps_open.
    5: [
        """CREATE INDEX sopflow_steps_open_risk ON sopflow_steps(risk_at)
            WHERE completed_at IS NULL""",
        # A role's work list among 1,000,000 open steps of other roles: read this
        # range instead of walking every open step. The expression (not plain `role`)
        # gives PostgreSQL statistics of the roles of OPEN steps: with table-wide ones
        # (years of completed steps) it misjudged a role's share and read every open step.
        """CREATE INDEX sopflow_steps_open_role ON sopflow_steps(
            (CASE WHEN completed_at IS NULL THEN role END), ready_at)
            WHERE completed_at IS NULL""",
    ],
    # Durable jobs (sopflow 0.2): timers, asynchronous continuations, service and external
    # tasks and SLA escalations, each a row written in the transaction of the state that
    # made it. ``job_key`` keeps start timers and escalations unique; a job whose retries
    # ran out points at its incident and is no longer due until retried.
    6: [
        """CREATE TABLE sopflow_jobs (
            id {pk},
            instance {bigint} REFERENCES sopflow_instances(id),
            definition INTEGER REFERENCES sopflow_definitions(id),
            kind TEXT NOT NULL,
            node TEXT,
            token {bigint},
            topic TEXT,
            due_at {bigint},
            payload TEXT,
            retries INTEGER NOT NULL,
            attempts INTEGER NOT NULL,
            locked_by TEXT,
            locked_until {bigint},
            error TEXT,
            incident {bigint},
            job_key TEXT UNIQUE,
            created_at {bigint} NOT NULL)""",
        # The due-job query of every worker: due order, only what a worker may take.
        """CREATE INDEX sopflow_jobs_due ON sopflow_jobs(due_at, id)
            WHERE topic IS NULL AND incident IS NULL""",
        """CREATE INDEX sopflow_jobs_topic ON sopflow_jobs(topic, due_at)
            WHERE topic IS NOT NULL AND incident IS NULL""",
        "CREATE INDEX sopflow_jobs_instance ON sopflow_jobs(instance, token)",
        """CREATE TABLE sopflow_incidents (
            id {pk},
            job {bigint},
            instance {bigint} REFERENCES sopflow_instances(id),
            kind TEXT NOT NULL,
            node TEXT,
            message TEXT NOT NULL,
            at {bigint} NOT NULL,
            resolved_at {bigint},
            resolved_by TEXT)""",
        "CREATE INDEX sopflow_incidents_instance ON sopflow_incidents(instance)",
    ],
    # Events (sopflow 0.2): a message or signal catch waits as a job row that is never due
    # by itself; ``subscription`` names what it waits for, indexed so a correlation or a
    # signal finds its catchers without reading any instance that does not wait for it.
    7: [
        "ALTER TABLE sopflow_jobs ADD COLUMN subscription TEXT",
        """CREATE INDEX sopflow_jobs_subscription ON sopflow_jobs(subscription)
            WHERE subscription IS NOT NULL""",
    ],
    # The web layer (docs/web.md): password hashes (argon2id, never the password), server
    # sessions shared by every worker process, and failed logins per account and address.
    8: [
        """CREATE TABLE sopflow_passwords (
            nip TEXT PRIMARY KEY,
            hash TEXT NOT NULL,
            set_at {bigint} NOT NULL)""",
        """CREATE TABLE sopflow_web_sessions (
            token TEXT PRIMARY KEY,
            nip TEXT NOT NULL,
            csrf TEXT NOT NULL,
            created_at {bigint} NOT NULL,
            expires_at {bigint} NOT NULL)""",
        "CREATE INDEX sopflow_web_sessions_nip ON sopflow_web_sessions(nip)",
        """CREATE TABLE sopflow_login_failures (
            id {pk},
            key TEXT NOT NULL,
            at {bigint} NOT NULL)""",
        "CREATE INDEX sopflow_login_failures_key ON sopflow_login_failures(key, at)",
    ],
    # The seal of each write asks for the last step and audit row already chained of its
    # instance (stores/_chain.py). With only (instance, id) that MAX walked every chain
    # entry of the instance: a completion after 1,000 returns cost 14 x one after 1
    # (benchmarks/tokens.py). This index answers it in one probe.
    9: [
        "CREATE INDEX sopflow_chain_kind ON sopflow_chain(instance, kind, row_id)",
    ],
    # The SLA summary (stores/_slasql.py) counts open steps of running instances per
    # process, unit and role. Joining each open step to its instance, definition and
    # unit row cost 0.24-0.32 x a full scan (issue 14). A step row now carries its
    # process id and unit (copied when it is written; the same for all of an
    # instance's steps) and whether its instance is running: a cancelled or
    # terminated instance leaves its waiting step rows open, so the store clears the
    # mark on the write that ends the instance. A partial index over open steps of
    # running instances holds every column the summary groups and judges by.
    10: [
        "ALTER TABLE sopflow_steps ADD COLUMN process_id TEXT",
        "ALTER TABLE sopflow_steps ADD COLUMN unit TEXT",
        "ALTER TABLE sopflow_steps ADD COLUMN instance_running INTEGER",
        """UPDATE sopflow_steps SET process_id = (SELECT d.process_id FROM sopflow_instances i
            JOIN sopflow_definitions d ON d.id = i.definition
            WHERE i.id = sopflow_steps.instance),
            unit = (SELECT u.unit FROM sopflow_instance_units u
            WHERE u.instance = sopflow_steps.instance),
            instance_running = (SELECT CASE WHEN i.status = 'running' THEN 1 ELSE 0 END
            FROM sopflow_instances i WHERE i.id = sopflow_steps.instance)""",
        """CREATE INDEX sopflow_steps_open_summary ON sopflow_steps(
            process_id, unit, role, due_at, risk_at, completed_at, instance_running)
            WHERE completed_at IS NULL AND instance_running = 1""",
    ],
    # SOP evaluations (Permenpan-RB 35/2012; docs/web.md, "Evaluasi"): who judged which
    # SOP version for which unit, on which day, and one Ya/Tidak answer with its catatan
    # per criterion, in the table's order. Only ever added to: a later evaluation is a
    # new judgement, not an edit of what an evaluator signed.
    11: [
        """CREATE TABLE sopflow_evaluations (
            id {pk},
            process_id TEXT NOT NULL,
            version TEXT NOT NULL,
            unit TEXT NOT NULL,
            nip TEXT NOT NULL,
            position TEXT NOT NULL,
            position_name TEXT NOT NULL,
            kind TEXT NOT NULL,
            tanggal TEXT NOT NULL,
            ya INTEGER NOT NULL,
            jumlah INTEGER NOT NULL,
            created_at {bigint} NOT NULL)""",
        "CREATE INDEX sopflow_evaluations_process ON sopflow_evaluations(process_id, unit)",
        "CREATE INDEX sopflow_evaluations_unit ON sopflow_evaluations(unit)",
        """CREATE TABLE sopflow_evaluation_answers (
            evaluation {bigint} NOT NULL REFERENCES sopflow_evaluations(id),
            position_no INTEGER NOT NULL,
            criterion TEXT NOT NULL,
            ya INTEGER NOT NULL,
            catatan TEXT NOT NULL,
            PRIMARY KEY (evaluation, criterion))""",
    ],
    # Each write's seal reads its instance's step and audit rows past the last one
    # chained: ``instance = ? AND id > ?``. On PostgreSQL an index on (instance) alone
    # left that to the statistics; where they were missing or stale it combined the
    # instance's entries with the primary key's whole range past the id (a start, whose
    # last chained id is 0, read every audit row: 3.9 ms at 126,000 rows, growing with
    # the table). On (instance, id) the read is one index range whatever the statistics.
    # PostgreSQL only: SQLite's index on (instance) already ends with the rowid, and
    # rebuilt it made SQLite's planner prefer it to the open-steps partial index.
    12: [
        ("postgres", "DROP INDEX sopflow_steps_instance"),
        ("postgres", "CREATE INDEX sopflow_steps_instance ON sopflow_steps(instance, id)"),
        ("postgres", "DROP INDEX sopflow_audit_instance"),
        ("postgres", "CREATE INDEX sopflow_audit_instance ON sopflow_audit(instance, id)"),
    ],
}
