module gojs_panic

go 1.24
