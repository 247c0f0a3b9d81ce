package roweval

// RequiredLiteral is requiredLiteral, for the tests.
var RequiredLiteral = requiredLiteral
