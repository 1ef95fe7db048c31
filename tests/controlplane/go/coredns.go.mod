module rapidskf.test/controlplane/coredns

go 1.26.0
