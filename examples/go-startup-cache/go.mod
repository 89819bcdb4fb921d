module example.com/coldstart/go-startup-cache

go 1.19
