// The SM-SR registry's schema: its migrations, one schema for SQLite and
// PostgreSQL (store::migrate fills in the {ID}/{INT}/{BLOB} types).

#include "registry_sql.hpp"

namespace rsp::smsr {

namespace {

const store::Migration kMigrations[] = {
    {1, "EIS, ISD-Ps, audit trail, operations and the per-eUICC command queue",
     R"(
CREATE TABLE smsr_eis (
  eid TEXT PRIMARY KEY,
  eum_id TEXT NOT NULL,
  document TEXT NOT NULL,
  isdr_keys {BLOB} NOT NULL,
  registered_at {INT} NOT NULL
);
CREATE TABLE smsr_isdp (
  iccid TEXT PRIMARY KEY,
  eid TEXT NOT NULL REFERENCES smsr_eis(eid),
  isdp_aid TEXT NOT NULL,
  mno_id TEXT NOT NULL,
  document TEXT NOT NULL,
  UNIQUE (eid, isdp_aid)
);
CREATE INDEX smsr_isdp_eid ON smsr_isdp(eid, mno_id);
CREATE TABLE smsr_audit (
  id {ID},
  at {INT} NOT NULL,
  caller TEXT NOT NULL,
  function TEXT NOT NULL,
  eid TEXT NOT NULL,
  isdp_aid TEXT NOT NULL,
  result TEXT NOT NULL
);
CREATE INDEX smsr_audit_eid ON smsr_audit(eid, id);
CREATE TABLE smsr_operation (
  id {ID},
  function TEXT NOT NULL,
  eid TEXT NOT NULL,
  iccid TEXT NOT NULL,
  caller TEXT NOT NULL,
  state TEXT NOT NULL,
  created_at {INT} NOT NULL,
  expires_at {INT} NOT NULL,
  finished_at {INT},
  status TEXT NOT NULL,
  subject_code TEXT NOT NULL,
  reason_code TEXT NOT NULL,
  arguments TEXT NOT NULL
);
CREATE INDEX smsr_operation_open ON smsr_operation(state, expires_at);
CREATE INDEX smsr_operation_eid ON smsr_operation(eid, id);
CREATE TABLE smsr_command (
  id {ID},
  operation_id {INT} NOT NULL,
  eid TEXT NOT NULL,
  script {BLOB} NOT NULL
);
CREATE INDEX smsr_command_eid ON smsr_command(eid, id);
CREATE INDEX smsr_command_operation ON smsr_command(operation_id);
)"},
    {2, "SCP80 counters, the SCP81 PSK identity index, delivery attempts per operation",
     R"(
CREATE TABLE smsr_scp80_counter (
  eid TEXT NOT NULL,
  key_version {INT} NOT NULL,
  value {INT} NOT NULL,
  PRIMARY KEY (eid, key_version)
);
CREATE TABLE smsr_psk (
  eid TEXT PRIMARY KEY,
  identity TEXT NOT NULL
);
CREATE INDEX smsr_psk_identity ON smsr_psk(identity);
ALTER TABLE smsr_operation ADD COLUMN attempts {INT} NOT NULL DEFAULT 0;
)"},
    {3, "SMS wake-up schedule per eUICC (wake-ups sent since its last session, the next one due)",
     R"(
CREATE TABLE smsr_wake_up (
  eid TEXT PRIMARY KEY,
  tries {INT} NOT NULL,
  next_at {INT} NOT NULL
);
)"},
    {4, "the sequence number of the eUICC's last notification applied to its EIS (NULL: none since registered)",
     R"(
ALTER TABLE smsr_eis ADD COLUMN notification_seq {INT};
)"},
};

}  // namespace

std::span<const store::Migration> registry_migrations() { return kMigrations; }

}  // namespace rsp::smsr
