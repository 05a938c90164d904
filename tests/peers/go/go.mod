module tlsengine.test/goserver

go 1.22
