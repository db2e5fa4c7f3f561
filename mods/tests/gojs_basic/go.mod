module gojs_basic

go 1.24
