package athenaapi

// The JSON 1.1 shapes of the Athena API calls used here
// (docs.aws.amazon.com/athena/latest/APIReference/API_Operations.html), the fields trailsql reads.

type startInput struct {
	QueryString           string               `json:"QueryString"`
	ClientRequestToken    string               `json:"ClientRequestToken,omitempty"`
	QueryExecutionContext *queryContext        `json:"QueryExecutionContext,omitempty"`
	ResultConfiguration   *resultConfiguration `json:"ResultConfiguration,omitempty"`
	WorkGroup             string               `json:"WorkGroup,omitempty"`
	ExecutionParameters   []string             `json:"ExecutionParameters,omitempty"`
}

type queryContext struct {
	Database string `json:"Database,omitempty"`
	Catalog  string `json:"Catalog,omitempty"`
}

type resultConfiguration struct {
	OutputLocation string `json:"OutputLocation,omitempty"`
}

type startOutput struct {
	QueryExecutionID string `json:"QueryExecutionId"`
}

type idInput struct {
	QueryExecutionID string `json:"QueryExecutionId"`
}

type getExecutionOutput struct {
	QueryExecution queryExecution `json:"QueryExecution"`
}

type queryExecution struct {
	QueryExecutionID string `json:"QueryExecutionId"`
	Query            string `json:"Query"`
	StatementType    string `json:"StatementType"` // DDL, DML, UTILITY
	Status           struct {
		State             string       `json:"State"` // QUEUED, RUNNING, SUCCEEDED, FAILED, CANCELLED
		StateChangeReason string       `json:"StateChangeReason"`
		AthenaError       *athenaError `json:"AthenaError"`
	} `json:"Status"`
	Statistics *struct {
		DataScannedInBytes          int64 `json:"DataScannedInBytes"`
		EngineExecutionTimeInMillis int64 `json:"EngineExecutionTimeInMillis"`
		TotalExecutionTimeInMillis  int64 `json:"TotalExecutionTimeInMillis"`
	} `json:"Statistics"`
}

type athenaError struct {
	ErrorCategory int    `json:"ErrorCategory"`
	ErrorType     int    `json:"ErrorType"`
	Retryable     bool   `json:"Retryable"`
	ErrorMessage  string `json:"ErrorMessage"`
}

type resultsInput struct {
	QueryExecutionID string `json:"QueryExecutionId"`
	MaxResults       int    `json:"MaxResults,omitempty"`
	NextToken        string `json:"NextToken,omitempty"`
}

type getResultsOutput struct {
	ResultSet struct {
		ResultSetMetadata struct {
			ColumnInfo []columnInfo `json:"ColumnInfo"`
		} `json:"ResultSetMetadata"`
		Rows []resultRow `json:"Rows"`
	} `json:"ResultSet"`
	NextToken string `json:"NextToken"`
}

type columnInfo struct {
	Name, Label, Type string
	Precision, Scale  int
}

type resultRow struct {
	Data []datum `json:"Data"`
}

// datum is a value; VarCharValue is absent for NULL.
type datum struct {
	VarCharValue *string `json:"VarCharValue"`
}
