namespace ifmatch::server { int placeholder() { return 0; } }
