package athena

import (
	"strings"
)

// Values with a time zone (https://trino.io/docs/current/functions/datetime.html#time-zone-conversion):
// in Trino, ts AT TIME ZONE 'America/New_York', at_timezone(ts, zone) and with_timezone(ts, zone)
// are a timestamp with time zone that keeps the instant and carries the zone, so hour() of it is
// the local hour, comparisons and date_diff use the instant, and it prints as
// "2024-03-05 02:08:09.000 America/New_York". DuckDB's TIMESTAMPTZ has no zone per value, and its
// own AT TIME ZONE gives the local wall clock as a TIMESTAMP, which then compares as if it were
// UTC (5 hours off for New York). The translation picks the form from where the value is used:
//
//   - as the timestamp of a wall-clock function (hour, day, date_format, format_datetime,
//     date_trunc, date, CAST AS DATE/TIMESTAMP, …): the local wall clock (trino_local_time);
//   - as a whole item of the outermost select list, or CAST to VARCHAR: the text Trino prints
//     (trino_zoned_text);
//   - anywhere else (comparisons, date_diff, to_unixtime, ORDER BY): the instant, a TIMESTAMPTZ
//     (trino_at_timezone), which DuckDB prints in the session zone, UTC.
//
// Departures, for DuckDB's lack of a zone per value: a zoned value passed through a subquery or a
// CTE and used for its wall clock outside it gives the UTC wall clock; zone offsets such as
// '+05:00' are not known to DuckDB's ICU time zones.

// wallClockFuncs take a timestamp as their first argument and read its wall clock.
var wallClockFuncs = map[string]bool{
	"hour": true, "minute": true, "second": true, "millisecond": true, "day": true,
	"day_of_month": true, "month": true, "year": true, "quarter": true, "week": true,
	"week_of_year": true, "day_of_week": true, "dow": true, "day_of_year": true, "doy": true,
	"year_of_week": true, "yow": true, "date": true, "format_datetime": true, "date_format": true,
}

// markZones records the form of zoned arguments before a call is translated.
func (c *call) markZones() {
	switch {
	case wallClockFuncs[c.fname] && len(c.args) > 0:
		if key, _, ok := zonedArg(c.args[0]); ok {
			c.r.setZoneMode(key, zoneLocal)
		}
	case c.fname == "cast" || c.fname == "try_cast":
		kids := c.g.kids
		for i := len(kids) - 1; i >= 0; i-- {
			if !isKeyword(&kids[i], "as") {
				continue
			}
			key, _, ok := zonedArg(kids[:i])
			if !ok {
				return
			}
			switch t := sigNodes(kids[i+1:]); {
			case len(t) == 1 && (isKeyword(&t[0], "date") || isKeyword(&t[0], "timestamp")):
				c.r.setZoneMode(key, zoneLocal)
			case len(t) >= 1 && (isKeyword(&t[0], "varchar") || isKeyword(&t[0], "char")):
				c.r.setZoneMode(key, zoneDisplay)
			}
			return
		}
	}
}

func (r *rewriter) setZoneMode(key int, m zoneMode) {
	if r.zoneModes == nil {
		r.zoneModes = map[int]zoneMode{}
	}
	r.zoneModes[key] = m
}

// zoneCall translates at_timezone, with_timezone and date_trunc of a zoned value.
func (c *call) zoneCall() (bool, error) {
	mode := c.r.zoneModes[c.name.pos]
	switch c.fname {
	case "at_timezone":
		if err := c.want(2); err != nil {
			return true, err
		}
		return true, c.macro(strings.TrimSuffix(zoneOpen(mode), "("), 2)
	case "with_timezone":
		// with_timezone(timestamp, zone): the wall clock read in zone.
		if err := c.want(2); err != nil {
			return true, err
		}
		switch mode {
		case zoneLocal:
			return true, c.emit("CAST(", 0, " AS TIMESTAMP)")
		case zoneDisplay:
			return true, c.emit("trino_zoned_text(timezone(", 1, ", CAST(", 0, " AS TIMESTAMP)), ", 1, ")")
		}
		return true, c.emit("timezone(", 1, ", CAST(", 0, " AS TIMESTAMP))")
	case "date_trunc":
		if len(c.args) != 2 {
			return false, nil
		}
		key, zone, ok := zonedArg(c.args[1])
		if !ok {
			return false, nil
		}
		if err := c.checkUnit(0); err != nil {
			return true, err
		}
		// The wall clock is truncated (midnight in New York, not in UTC), and the result is
		// again a value in that zone.
		c.r.setZoneMode(key, zoneLocal)
		switch mode {
		case zoneLocal:
			return true, c.emit("date_trunc(", 0, ",", 1, ")")
		case zoneDisplay:
			c.lit("trino_zoned_text(timezone(")
			if err := c.r.seq(zone, false); err != nil {
				return true, err
			}
			if err := c.emit(", date_trunc(", 0, ",", 1, ")), "); err != nil {
				return true, err
			}
			if err := c.r.seq(zone, false); err != nil {
				return true, err
			}
			c.r.tok(c.g.close)
			return true, nil
		}
		c.lit("timezone(")
		if err := c.r.seq(zone, false); err != nil {
			return true, err
		}
		return true, c.emit(", date_trunc(", 0, ",", 1, "))")
	}
	return false, nil
}
