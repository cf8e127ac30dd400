/**
 * Script checks (issue #16): an alert condition that runs a saved script on a schedule on each
 * device of the rule's scope. `alert_rules.next_check_at` is the rule's next run (null: due now,
 * as after its condition changes); advancing it is a compare-and-set, so of several instances one
 * starts each round. `alert_script_checks` holds the checks in flight, one per rule and device (a
 * device that does not answer is not sent a pile of them); a finished one is judged and deleted,
 * and its result is kept on the alert (`check_*`) and in the command's own row and output. A check
 * run is a script run like the others (`script_runs.trigger = 'check'`).
 */
export const scriptChecks = `
ALTER TABLE alert_rules ADD COLUMN next_check_at TIMESTAMPTZ;
CREATE INDEX alert_rules_script_checks_idx ON alert_rules (next_check_at) WHERE enabled AND condition->>'kind' = 'script';

CREATE TABLE alert_script_checks (
  rule_id UUID NOT NULL REFERENCES alert_rules(id) ON DELETE CASCADE,
  device_id UUID NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
  command_id UUID REFERENCES commands(id) ON DELETE CASCADE,
  started_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
  PRIMARY KEY (rule_id, device_id)
);
CREATE INDEX alert_script_checks_command_idx ON alert_script_checks (command_id);

ALTER TABLE alerts ADD COLUMN check_exit_code INTEGER;
ALTER TABLE alerts ADD COLUMN check_output TEXT;
ALTER TABLE alerts ADD COLUMN check_at TIMESTAMPTZ;

ALTER TABLE script_runs DROP CONSTRAINT script_runs_trigger_check;
ALTER TABLE script_runs ADD CONSTRAINT script_runs_trigger_check CHECK (trigger IN ('manual', 'schedule', 'remediation', 'check'));
`;
