"""Chinese for the messages about running and writing: scenarios, suggestions, serve, batch, outputs, maps, CLI."""

ZH: dict[str, str] = {
    # command line (cli/app.py)
    "; check the permissions, or choose another --out": "；请检查权限，或换一个 --out 文件夹",
    "; a file and a folder share this name: choose another --out": "；已有同名的文件或文件夹：请换一个 --out",
    "; free some disk space or choose another --out": "；请腾出磁盘空间，或换一个 --out",
}
