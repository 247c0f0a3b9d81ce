package athena

// EngineDialect is Athena's SQL as the query engine takes it (engine.Options.Dialect). It is an
// alias of a struct type that engine.Dialect aliases too, and so are the types of its fields:
// the engine does not know Athena and Athena does not know the engine, and the compiler checks
// that the two declarations agree wherever a front end assigns one to the other. The engine's
// documentation of engine.Dialect says what each field is for.
type EngineDialect = struct {
	Settings  []string
	Setup     []string
	Translate func(sql string) (duckSQL string, mapErr func(error) error, err error)
	ParseDDL  func(sql string) (def *TableSpec, drop string, err error)
	Bounds    func(sql string, tables map[string][]string) *boundsFields
}

// TableSpec is a user's table as CREATE EXTERNAL TABLE defines it over the lake: its name, its
// declared columns, and its partition columns derived from the lake's. It is an alias of a
// struct type that engine.TableSpec aliases too.
type TableSpec = struct {
	Name       string
	Columns    []string
	Partitions []DerivedPartition
}

// Dialect makes the engine speak Athena's SQL: the settings and macros translated SQL needs,
// every statement translated with DuckDB's errors pointed back at the user's SQL, users' own
// tables read from their CREATE EXTERNAL TABLE, and the bounds that let the engine read only the
// files a statement can need.
func Dialect() EngineDialect {
	return EngineDialect{
		Settings: append([]string(nil), settings...),
		Setup:    macros(),
		Translate: func(sql string) (string, func(error) error, error) {
			t, err := TranslateMapped(sql)
			if err != nil {
				return "", nil, err
			}
			return t.SQL, t.MapError, nil
		},
		ParseDDL: parseTableSpec,
		Bounds: func(sql string, tables map[string][]string) *boundsFields {
			return (*boundsFields)(FindBounds(sql, tables))
		},
	}
}

// parseTableSpec reads a table definition statement for the engine: CREATE EXTERNAL TABLE
// (spec) or DROP TABLE (drop, the name); both are zero for any other statement.
func parseTableSpec(sql string) (*TableSpec, string, error) {
	ddl, parts, drop, err := ParseTableStatement(sql)
	if ddl == nil || err != nil {
		return nil, drop, err
	}
	spec := &TableSpec{Name: ddl.Name, Partitions: parts}
	for _, c := range ddl.Columns {
		spec.Columns = append(spec.Columns, c.Name)
	}
	return spec, "", nil
}
