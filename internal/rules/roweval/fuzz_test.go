package roweval_test

import (
	"testing"

	"github.com/trailsql/trailsql/internal/rules/roweval"
)

// FuzzCompile: any text compiles or fails with an error, and what compiles evaluates on a row
// without panicking.
func FuzzCompile(f *testing.F) {
	for _, c := range handCases {
		f.Add(c.expr)
	}
	f.Add("coalesce(any_match(CASE WHEN json_array_length(json_extract(additionaleventdata, '$.MFAUsed')) IS NULL THEN ARRAY[json_extract(additionaleventdata, '$.MFAUsed')] ELSE CAST(json_extract(additionaleventdata, '$.MFAUsed') AS ARRAY(JSON)) END, sigma_1 -> lower(json_extract_scalar(sigma_1, '$')) = 'no'), false)")
	f.Add("json_extract_scalar('[1,]', '$[0]') = '1' AND json_extract('{\"a\":NaN}', '$.a') IS NOT NULL")
	f.Add("any_match(map_values(TRY_CAST(json_extract(requestparameters, '$') AS MAP(VARCHAR, JSON))), v -> v IS NULL) OR element_at(resources, -1).arn LIKE 'a%' ESCAPE '\\'")
	f.Add("TRY_CAST(json_extract_scalar(requestparameters, '$.n') AS DOUBLE) >= 1e2 AND regexp_replace(eventname, '(C)', '$1') <> ''")
	row := handRow(f)
	f.Fuzz(func(t *testing.T, expr string) {
		e, err := roweval.Compile(expr)
		if err != nil {
			return
		}
		e.Holds(row)
		e.Text(row)
		e.Columns()
	})
}
