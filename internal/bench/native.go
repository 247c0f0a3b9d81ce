package bench

import (
	"context"
	"database/sql"
	"fmt"
	"reflect"
	"strings"

	duckdb "github.com/duckdb/duckdb-go/v2"

	"github.com/trailsql/trailsql/internal/athena"
	"github.com/trailsql/trailsql/internal/cloudtrail"
)

// NativeTable is the table LoadNative makes: cloudtrail_logs, with the lake's columns and types.
const NativeTable = "cloudtrail_logs"

// jsonKeys are the CloudTrail JSON keys of the lake's lower-case field names: DuckDB's
// read_json matches keys case-sensitively. Keyed by the lake's name, or by its dotted path where
// one name has two spellings (resources[].ARN, useridentity.arn).
var jsonKeys = map[string]string{
	"eventversion": "eventVersion", "useridentity": "userIdentity", "eventtime": "eventTime",
	"eventsource": "eventSource", "eventname": "eventName", "awsregion": "awsRegion",
	"sourceipaddress": "sourceIPAddress", "useragent": "userAgent", "errorcode": "errorCode",
	"errormessage": "errorMessage", "requestparameters": "requestParameters",
	"responseelements": "responseElements", "additionaleventdata": "additionalEventData",
	"requestid": "requestID", "eventid": "eventID", "readonly": "readOnly", "eventtype": "eventType",
	"apiversion": "apiVersion", "recipientaccountid": "recipientAccountId",
	"serviceeventdetails": "serviceEventDetails", "sharedeventid": "sharedEventID",
	"vpcendpointid": "vpcEndpointId", "vpcendpointaccountid": "vpcEndpointAccountId",
	"eventcategory": "eventCategory", "sessioncredentialfromconsole": "sessionCredentialFromConsole",
	"edgedevicedetails": "edgeDeviceDetails", "tlsdetails": "tlsDetails",
	"managementevent": "managementEvent", "insightdetails": "insightDetails",
	"principalid": "principalId", "accountid": "accountId", "invokedby": "invokedBy",
	"accesskeyid": "accessKeyId", "username": "userName", "onbehalfof": "onBehalfOf",
	"userid": "userId", "identitystorearn": "identityStoreArn", "sessioncontext": "sessionContext",
	"mfaauthenticated": "mfaAuthenticated", "creationdate": "creationDate",
	"sessionissuer": "sessionIssuer", "ec2roledelivery": "ec2RoleDelivery",
	"webidfederationdata": "webIdFederationData", "federatedprovider": "federatedProvider",
	"sourceidentity": "sourceIdentity", "inscopeof": "inScopeOf",
	"identityprovider": "identityProvider", "updatedfields": "updatedFields",
	"originalrequestid": "originalRequestID", "originaleventid": "originalEventID",
	"tlsversion": "tlsVersion", "ciphersuite": "cipherSuite",
	"clientprovidedhostheader": "clientProvidedHostHeader",
	"resources.arn":            "ARN",
}

// jsonText are the fields the lake holds as the JSON text of an object: read as JSON.
var jsonText = map[string]bool{
	"requestparameters": true, "responseelements": true, "additionaleventdata": true,
	"serviceeventdetails": true, "edgedevicedetails": true, "insightdetails": true,
	"useridentity.inscopeof": true,
}

// notInSource are the lake's own columns, which no CloudTrail record has.
var notInSource = map[string]bool{"residual": true}

func jsonKey(path, name string) string {
	if k, ok := jsonKeys[path]; ok {
		return k
	}
	if k, ok := jsonKeys[name]; ok {
		return k
	}
	return name
}

func tagName(f reflect.StructField) string {
	name, _, _ := strings.Cut(f.Tag.Get("parquet"), ",")
	return name
}

// readType renders the DuckDB type read_json reads a field of the lake's Record as: the
// CloudTrail keys, JSON where the lake keeps JSON text.
func readType(path string, t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if jsonText[path] {
		return "JSON"
	}
	switch t.Kind() {
	case reflect.Bool:
		return "BOOLEAN"
	case reflect.Map:
		return "MAP(VARCHAR, VARCHAR)"
	case reflect.Slice:
		return readType(path, t.Elem()) + "[]"
	case reflect.Struct:
		var parts []string
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			name := tagName(f)
			sub := path + "." + name
			if path == "" {
				sub = name
			}
			if notInSource[sub] {
				continue
			}
			parts = append(parts, quoteIdent(jsonKey(sub, name))+" "+readType(sub, f.Type))
		}
		return "STRUCT(" + strings.Join(parts, ", ") + ")"
	}
	return "VARCHAR"
}

// LoadSQL is the statement that builds the native table from the log files under trail (the
// S3 layout; digest files hold no Records and add no rows): read_json with the records' type declared (the lake's
// fields, under their CloudTrail keys), unnest of Records, each column cast to the lake's type,
// and the partition columns as the lake has them: the account from the file's path, the region
// and the day from the event (awsRegion, eventTime).
func LoadSQL(trail string) string {
	glob := strings.TrimRight(filepath2slash(trail), "/") + "/AWSLogs/**/*.json.gz"
	var cols []string
	for _, c := range cloudtrail.Columns() {
		switch {
		case notInSource[c.Name]:
			cols = append(cols, "CAST(NULL AS "+c.Type+") AS "+quoteIdent(c.Name))
		case c.Name == "account":
			cols = append(cols, "account")
		case c.Name == "region":
			cols = append(cols, `r."awsRegion" AS region`)
		case c.Name == "year":
			cols = append(cols, `substr(r."eventTime", 1, 4) AS year`)
		case c.Name == "month":
			cols = append(cols, `substr(r."eventTime", 6, 2) AS month`)
		case c.Name == "day":
			cols = append(cols, `substr(r."eventTime", 9, 2) AS day`)
		default:
			cols = append(cols, "CAST(r."+quoteIdent(jsonKey(c.Name, c.Name))+" AS "+c.Type+") AS "+quoteIdent(c.Name))
		}
	}
	recType := readType("", reflect.TypeFor[cloudtrail.Record]())
	re := `AWSLogs/(?:o-[a-z0-9]+/)?([0-9]{12})/CloudTrail/`
	return "CREATE TABLE " + NativeTable + " AS SELECT " + strings.Join(cols, ", ") +
		" FROM (SELECT unnest(Records) AS r, regexp_extract(filename, " + quote(re) +
		", 1) AS account FROM read_json(" + quote(glob) +
		", columns = {'Records': " + quote(recType+"[]") + "}, filename = true))"
}

func filepath2slash(p string) string { return strings.ReplaceAll(p, `\`, "/") }

func quote(s string) string      { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }
func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

// LoadNative makes the DuckDB database file db (which must not exist) holding the native table
// of the trail under trail, as a user of DuckDB alone would: read_json over the gzip files (see
// LoadSQL), DuckDB's default threads and memory, and preserve_insertion_order off, as DuckDB's
// guide to bulk loads advises (with it on, the load of 100,000 generated events took 2.5 times
// the CPU and 2.2 GB instead of 350 MB). It returns the rows loaded. Run it in a child process
// to measure its CPU time and peak memory apart.
func LoadNative(ctx context.Context, trail, db string) (int64, error) {
	conn, err := duckdb.NewConnector(db, nil)
	if err != nil {
		return 0, fmt.Errorf("open DuckDB database %s: %w", db, err)
	}
	d := sql.OpenDB(conn)
	defer d.Close()
	if _, err := d.ExecContext(ctx, "SET preserve_insertion_order = false"); err != nil {
		return 0, fmt.Errorf("set up %s: %w", db, err)
	}
	if _, err := d.ExecContext(ctx, LoadSQL(trail)); err != nil {
		return 0, fmt.Errorf("load %s into DuckDB with read_json: %w", trail, err)
	}
	var n int64
	if err := d.QueryRowContext(ctx, "SELECT count(*) FROM "+NativeTable).Scan(&n); err != nil {
		return 0, fmt.Errorf("count the rows of %s: %w", db, err)
	}
	if _, err := d.ExecContext(ctx, "CHECKPOINT"); err != nil {
		return 0, fmt.Errorf("checkpoint %s: %w", db, err)
	}
	return n, nil
}

// Native answers Athena SQL over a database LoadNative made, translated as trailsql translates
// it, on one connection: the anchor of the questions' latency.
type Native struct {
	db   *sql.DB
	conn *sql.Conn
	tr   func(string) (string, func(error) error, error)
}

// OpenNative opens the database file db read-only, with the settings and macros of trailsql's
// Athena dialect.
func OpenNative(ctx context.Context, db string) (*Native, error) {
	conn, err := duckdb.NewConnector(db+"?access_mode=read_only", nil)
	if err != nil {
		return nil, fmt.Errorf("open DuckDB database %s: %w", db, err)
	}
	d := sql.OpenDB(conn)
	c, err := d.Conn(ctx)
	if err != nil {
		d.Close()
		return nil, fmt.Errorf("open DuckDB database %s: %w", db, err)
	}
	dia := athena.Dialect()
	for _, s := range append(dia.Settings, dia.Setup...) {
		if _, err := c.ExecContext(ctx, s); err != nil {
			c.Close()
			d.Close()
			return nil, fmt.Errorf("set up %s: %w", db, err)
		}
	}
	return &Native{db: d, conn: c, tr: dia.Translate}, nil
}

// Query translates an Athena statement, runs it and reads every row into memory, as trailsql's
// engine does for a result; it returns the number of rows.
func (n *Native) Query(ctx context.Context, athenaSQL string, args ...any) (int, error) {
	rows, err := n.rows(ctx, athenaSQL, args...)
	return len(rows), err
}

func (n *Native) rows(ctx context.Context, athenaSQL string, args ...any) ([][]any, error) {
	q, mapErr, err := n.tr(athenaSQL)
	if err != nil {
		return nil, fmt.Errorf("translate: %w", err)
	}
	rows, err := n.conn.QueryContext(ctx, q, args...)
	if err != nil {
		if mapErr != nil {
			err = mapErr(err)
		}
		return nil, err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return nil, err
	}
	var out [][]any
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return out, err
		}
		out = append(out, vals)
	}
	return out, rows.Err()
}

// Close closes the database.
func (n *Native) Close() error {
	n.conn.Close()
	return n.db.Close()
}
