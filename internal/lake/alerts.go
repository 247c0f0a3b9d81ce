package lake

// AlertsDir is the folder of the lake that holds the alerts the detection rules raised
// (internal/rules writes them): Parquet files, a table beside cloudtrail_logs (Athena reads it
// as one, with LOCATION '…/alerts/').
const AlertsDir = "alerts"

// AlertsTable is the name of the alerts' table in SQL.
const AlertsTable = "alerts"

// AlertColumns are the columns of the alerts' table and their DuckDB types: the Parquet
// columns of rules.Alert, in order (a test of internal/rules checks they are). They are here,
// below the rules, so that the engine's front ends declare the table without linking them.
var AlertColumns = []struct{ Name, Type string }{
	{"rule", "VARCHAR"}, {"severity", "VARCHAR"}, {"title", "VARCHAR"},
	{"event_id", "VARCHAR"}, {"event_time", "VARCHAR"}, {"event_source", "VARCHAR"}, {"event_name", "VARCHAR"},
	{"principal", "VARCHAR"}, {"source_ip", "VARCHAR"}, {"account", "VARCHAR"}, {"region", "VARCHAR"}, {"day", "VARCHAR"},
	{"dedup", "VARCHAR"}, {"count", "BIGINT"}, {"first_time", "VARCHAR"}, {"commit", "BIGINT"},
}
