"""An OpenNebula XML-RPC emulator, judged by real clients (pyone, the Terraform provider, DIRAC's driver).

It stands in for a front-end where none can be installed (demo, CI). It is never presented as OpenNebula.
backend.py holds state and rules; rpc.py speaks XML-RPC; onegate.py answers VMs; server.py runs both.
"""
