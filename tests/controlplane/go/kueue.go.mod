module rapidskf.test/controlplane/kueue

go 1.26.0
