module example.com/coldstart/go-user-service

go 1.19
