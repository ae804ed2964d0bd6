namespace ifmatch::protocol { int placeholder() { return 0; } }
