package athena

import (
	"fmt"
	"strings"
)

// TableDDL is what trailsql reads of an Athena CREATE EXTERNAL TABLE: the table's name, its
// columns, its partition columns and its table properties (partition projection among them).
// The rest (ROW FORMAT, SERDE, STORED AS, LOCATION) says how Athena reads S3 and means nothing
// over the lake.
type TableDDL struct {
	Name       string // lower case, without its database
	Columns    []DDLColumn
	Partitions []DDLColumn
	Location   string
	Properties map[string]string // TBLPROPERTIES, keys in lower case
}

// DDLColumn is a column of a table definition.
type DDLColumn struct {
	Name string // lower case
	Type string // as written, lower case
}

// Projection returns the partition projection property prop (type, format, range, values) of
// column col, "" if not set (docs.aws.amazon.com/athena/latest/ug/partition-projection-supported-types.html).
func (t *TableDDL) Projection(col, prop string) string {
	return t.Properties["projection."+col+"."+prop]
}

// ddlTokens lexes a DDL statement without trivia, Hive's `quoted` names read as "quoted".
func ddlTokens(sql string) ([]token, error) {
	b := []byte(sql)
	inString := false
	for i, c := range b {
		switch {
		case c == '\'':
			inString = !inString
		case c == '`' && !inString:
			b[i] = '"'
		}
	}
	all, err := lex(string(b))
	if err != nil {
		return nil, err
	}
	var out []token
	for _, t := range all {
		if !t.trivia() {
			out = append(out, t)
		}
	}
	return out, nil
}

func lineOf(sql string, pos int) int { return strings.Count(sql[:min(pos, len(sql))], "\n") + 1 }

// ParseCreateTable reads an Athena CREATE EXTERNAL TABLE statement (ok is false for any other
// statement). An error names the line and what is wrong.
func ParseCreateTable(sql string) (ddl *TableDDL, ok bool, err error) {
	toks, err := ddlTokens(sql)
	if err != nil {
		return nil, false, err
	}
	p := &ddlParser{sql: sql, toks: toks}
	if !p.words("create", "external", "table") {
		return nil, false, nil
	}
	p.words("if", "not", "exists")
	ddl = &TableDDL{Properties: map[string]string{}}
	if ddl.Name, err = p.tableName(); err != nil {
		return nil, true, err
	}
	if ddl.Columns, err = p.columnList(); err != nil {
		return nil, true, err
	}
	for p.i < len(p.toks) {
		switch {
		case p.words("partitioned", "by"):
			if ddl.Partitions, err = p.columnList(); err != nil {
				return nil, true, err
			}
		case p.words("tblproperties"):
			if err := p.properties(ddl.Properties); err != nil {
				return nil, true, err
			}
		case p.words("location"):
			if p.i < len(p.toks) && p.toks[p.i].kind == tkString {
				ddl.Location = p.toks[p.i].stringValue()
				p.i++
			}
		case p.toks[p.i].kind == tkLParen:
			p.skipParens()
		default:
			p.i++
		}
	}
	return ddl, true, nil
}

// ParseDropTable reads DROP TABLE [IF EXISTS] name and returns the name, lower case.
func ParseDropTable(sql string) (name string, ok bool, err error) {
	toks, err := ddlTokens(sql)
	if err != nil {
		return "", false, nil
	}
	p := &ddlParser{sql: sql, toks: toks}
	if !p.words("drop", "table") {
		return "", false, nil
	}
	p.words("if", "exists")
	if name, err = p.tableName(); err != nil {
		return "", true, err
	}
	if p.i < len(p.toks) && p.toks[p.i].kind == tkSemicolon {
		p.i++
	}
	if p.i != len(p.toks) {
		return "", true, p.errorf("unexpected %q after the table's name", p.toks[p.i].text)
	}
	return name, true, nil
}

type ddlParser struct {
	sql  string
	toks []token
	i    int
}

func (p *ddlParser) errorf(format string, args ...any) error {
	pos := len(p.sql)
	if p.i < len(p.toks) {
		pos = p.toks[p.i].pos
	}
	return fmt.Errorf("line %d: %s", lineOf(p.sql, pos), fmt.Sprintf(format, args...))
}

// words consumes the keywords kws if they come next.
func (p *ddlParser) words(kws ...string) bool {
	if p.i+len(kws) > len(p.toks) {
		return false
	}
	for j, kw := range kws {
		if !p.toks[p.i+j].is(kw) {
			return false
		}
	}
	p.i += len(kws)
	return true
}

func (p *ddlParser) ident() (string, bool) {
	if p.i < len(p.toks) && (p.toks[p.i].kind == tkIdent || p.toks[p.i].kind == tkQuoted) {
		p.i++
		return strings.ToLower(p.toks[p.i-1].name()), true
	}
	return "", false
}

// tableName reads [db.]name and returns name.
func (p *ddlParser) tableName() (string, error) {
	name, ok := p.ident()
	if !ok {
		return "", p.errorf("expected the table's name")
	}
	for p.i < len(p.toks) && p.toks[p.i].text == "." {
		p.i++
		if name, ok = p.ident(); !ok {
			return "", p.errorf("expected the table's name after the database's")
		}
	}
	return name, nil
}

// columnList reads ( name type [COMMENT '…'], … ).
func (p *ddlParser) columnList() ([]DDLColumn, error) {
	if p.i >= len(p.toks) || p.toks[p.i].kind != tkLParen {
		return nil, p.errorf("expected ( and a list of columns")
	}
	p.i++
	var out []DDLColumn
	for {
		name, ok := p.ident()
		if !ok {
			return nil, p.errorf("expected a column's name")
		}
		// The type runs to the next comma or parenthesis at depth 0, angle brackets counted.
		var typ strings.Builder
		depth := 0
		for ; p.i < len(p.toks); p.i++ {
			t := p.toks[p.i]
			if depth == 0 && (t.kind == tkComma || t.kind == tkRParen || t.is("comment")) {
				break
			}
			switch {
			case t.kind == tkLParen || strings.Count(t.text, "<") > 0:
				depth += strings.Count(t.text, "<") + b2i(t.kind == tkLParen)
			}
			if t.kind == tkRParen || strings.Count(t.text, ">") > 0 {
				depth -= strings.Count(t.text, ">") + b2i(t.kind == tkRParen)
			}
			typ.WriteString(t.text)
		}
		if p.words("comment") {
			if p.i >= len(p.toks) || p.toks[p.i].kind != tkString {
				return nil, p.errorf("expected a string after COMMENT")
			}
			p.i++
		}
		if typ.Len() == 0 {
			return nil, p.errorf("column %s has no type", name)
		}
		out = append(out, DDLColumn{Name: name, Type: strings.ToLower(typ.String())})
		if p.i >= len(p.toks) {
			return nil, p.errorf("expected ) after the columns")
		}
		if p.toks[p.i].kind == tkRParen {
			p.i++
			return out, nil
		}
		p.i++ // the comma
	}
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// properties reads ( 'key' = 'value', … ).
func (p *ddlParser) properties(into map[string]string) error {
	if p.i >= len(p.toks) || p.toks[p.i].kind != tkLParen {
		return p.errorf("expected ( after TBLPROPERTIES")
	}
	p.i++
	for {
		if p.i+2 >= len(p.toks) || p.toks[p.i].kind != tkString || p.toks[p.i+1].text != "=" || p.toks[p.i+2].kind != tkString {
			return p.errorf("expected 'property' = 'value' in TBLPROPERTIES")
		}
		into[strings.ToLower(p.toks[p.i].stringValue())] = p.toks[p.i+2].stringValue()
		p.i += 3
		if p.i < len(p.toks) && p.toks[p.i].kind == tkRParen {
			p.i++
			return nil
		}
		if p.i >= len(p.toks) || p.toks[p.i].kind != tkComma {
			return p.errorf("expected , or ) in TBLPROPERTIES")
		}
		p.i++
	}
}

func (p *ddlParser) skipParens() {
	depth := 0
	for ; p.i < len(p.toks); p.i++ {
		switch p.toks[p.i].kind {
		case tkLParen:
			depth++
		case tkRParen:
			depth--
			if depth == 0 {
				p.i++
				return
			}
		}
	}
}

// DerivedPartition says how a partition column of a user's table comes from the lake's own
// partitions (account, region, year, month, day). It is an alias of a struct type that
// engine.PartitionSpec aliases too (see EngineDialect).
type DerivedPartition = struct {
	Name    string
	From    string // account, region, year, month, day, or date (year, month, day in Format)
	Format  string
	Integer bool
}

// Derive maps the table's partition columns onto the lake's, by their projection and name:
// a projected date (or dt/timestamp/date) in its projection.<col>.format, an account id, a
// region, a year, month or day (integers if so declared).
func (t *TableDDL) Derive() ([]DerivedPartition, error) {
	var out []DerivedPartition
	for _, c := range t.Partitions {
		d := DerivedPartition{Name: c.Name}
		typ := t.Projection(c.Name, "type")
		integer := c.Type == "int" || c.Type == "integer" || c.Type == "bigint" || c.Type == "smallint" || c.Type == "tinyint"
		switch {
		case typ == "date" || c.Name == "dt" || c.Name == "timestamp" || c.Name == "date":
			d.From, d.Format = "date", t.Projection(c.Name, "format")
			if d.Format == "" {
				d.Format = "yyyy/MM/dd"
			}
		case strings.Contains(c.Name, "account"):
			d.From = "account"
		case strings.Contains(c.Name, "region"):
			d.From = "region"
		case c.Name == "year" || c.Name == "month" || c.Name == "day":
			d.From, d.Integer = c.Name, integer
		default:
			return nil, fmt.Errorf("table %s: partition column %s: trailsql cannot derive it from the lake's partitions (account, region, year, month, day); name it account_id, region, year, month, day, or dt/timestamp with projection.%s.format", t.Name, c.Name, c.Name)
		}
		out = append(out, d)
	}
	return out, nil
}

// ParseTableStatement reads the statements that define users' own tables: CREATE EXTERNAL
// TABLE (ddl, and its partitions derived from the lake's) or DROP TABLE (drop, the name). All
// are zero for any other statement.
func ParseTableStatement(sql string) (ddl *TableDDL, parts []DerivedPartition, drop string, err error) {
	if drop, ok, err := ParseDropTable(sql); ok || err != nil {
		return nil, nil, drop, err
	}
	ddl, ok, err := ParseCreateTable(sql)
	if !ok || err != nil {
		return nil, nil, "", err
	}
	parts, err = ddl.Derive()
	if err != nil {
		return nil, nil, "", err
	}
	return ddl, parts, "", nil
}
