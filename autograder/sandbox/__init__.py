"""Run untrusted commands in a throwaway sandbox, or plainly (--no-sandbox), through one API."""
from .namespaces import SandboxLimits, SandboxRun, run_sandboxed, sandbox_unavailable

__all__ = ["SandboxLimits", "SandboxRun", "run_sandboxed", "sandbox_unavailable"]
