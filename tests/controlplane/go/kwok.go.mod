module rapidskf.test/controlplane/kwok

go 1.26.0
