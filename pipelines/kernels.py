"""The Jupyter kernel manager the review and the what-if notebook run with (papermill's ``kernel_manager_class``)."""

from __future__ import annotations

from typing import IO

from jupyter_client.manager import AsyncKernelManager


class LocalKernelManager(AsyncKernelManager):
    """The review's kernel talks to papermill over local (IPC) sockets: no TCP ports are opened,
    and the kernel does not warn on every refresh that its TCP traffic is unencrypted. The kernel
    process's own log (not the notebook's output, which the notebook keeps) goes to ``kernel_log``
    when set, so its messages (e.g. how it was shut down) do not appear in the console."""

    kernel_log: IO[bytes] | None = None

    def __init__(self, **kwargs):
        kwargs.setdefault("transport", "ipc")
        super().__init__(**kwargs)

    async def _async_launch_kernel(self, kernel_cmd: list[str], **kw) -> None:
        if self.kernel_log is not None:
            kw["stderr"] = self.kernel_log
        await super()._async_launch_kernel(kernel_cmd, **kw)
