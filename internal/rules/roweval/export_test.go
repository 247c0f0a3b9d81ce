package roweval

// RequiredLiteral is requiredLiteral, for the tests.
var RequiredLiteral = requiredLiteral

// HoldsByTree is Holds evaluated by the expression's tree; Fast says whether Holds does not.
func (e *Expr) HoldsByTree(r *Row) (bool, error) { return e.holdsByTree(r) }
func (e *Expr) Fast() bool                       { return e.fast != nil }
