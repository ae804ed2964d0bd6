namespace ifmatch::storage { int placeholder() { return 0; } }
