"""Chinese for the messages about running and writing: scenarios, suggestions, serve, batch, outputs, maps, CLI."""

ZH: dict[str, str] = {
    # command line (cli/app.py)
    "; check the permissions, or choose another --out": "；请检查权限，或换一个 --out 文件夹",
    "; a file and a folder share this name: choose another --out": "；已有同名的文件或文件夹：请换一个 --out",
    "; free some disk space or choose another --out": "；请腾出磁盘空间，或换一个 --out",
    # scenario files and their checks (scenario/schema.py, checks.py, sites.py, compare.py, outputs.py)
    "give either lon/lat or x/y, not both": "lon/lat 与 x/y 只能给一组，不能同时给",
    "give both lon and lat": "lon 和 lat 须同时给出",
    "give both x and y": "x 和 y 须同时给出",
    "give lon/lat (degrees) or x/y (metres, with crs: EPSG:....)":
        "请给出 lon/lat（度），或 x/y（米，并写明 crs: EPSG:....）",
    "an upgrade needs type:, emergency: or name:": "upgrade 需要 type:、emergency: 或 name: 中的至少一项",
    "an expansion needs beds: and/or ambulances:": "expand 需要 beds: 或 ambulances:（可同时给）",
    "scenario": "方案",
    "change {number} ({kind} {id})": "第 {number} 项变更（{kind} {id}）",
    "{where}: change {number}": "{where}：第 {number} 项变更",
    "{at}: expected a mapping such as {{relocate: THC07, to: {{lon: ..., lat: ...}}}}, got {got}":
        "{at}：应为键值映射，例如 {{relocate: THC07, to: {{lon: ..., lat: ...}}}}，实际为 {got}",
    "{at}: a change starts with exactly one of {kinds} (the facility id), got {got}":
        "{at}：每项变更须以 {kinds} 之一开头（其值为机构编号），且只能有一个，实际为 {got}",
    "{where}: no changes given": "{where}：没有给出任何变更",
    "scenario: expected a list of changes, such as [{{'relocate': 'THC07', 'to': {{'lon': ..., 'lat': ...}}}}], got "
    "{got}":
        "scenario：应为变更列表，例如 [{{'relocate': 'THC07', 'to': {{'lon': ..., 'lat': ...}}}}]，实际为 {got}",
    "{where}: study: base study not found: {study} (a path relative to the scenario file, or 'demo')":
        "{where}：study：找不到基础研究文件 {study}（应为相对于方案文件的路径，或 'demo'）",
    "{where}: {problem}": "{where}：{problem}",
    " '{ref}' is the name of {id}: refer to facilities by id": "'{ref}' 是 {id} 的名称：请用机构编号指代机构",
    " did you mean {ids}?": "是否指 {ids}？",
    " ids look like {sample} ({n} facilities)": "编号形如 {sample}（共 {n} 个机构）",
    "did you mean {types}? ": "是否指 {types}？",
    "type '{value}' is not a facility type of profile '{profile}'; {hint}known types: {known} (or their Chinese "
    "names, e.g. 乡镇卫生院, 社区卫生服务中心, 村卫生室; see docs/study-file.md)":
        "类型 '{value}' 不是标准配置 '{profile}' 中的机构类型；{hint}已知类型：{known}（也可用中文名称，如 "
        "乡镇卫生院、社区卫生服务中心、村卫生室；见 docs/study-file.md）",
    "{where}: {change}: {problem}": "{where}：{change}：{problem}",
    "no facility with id '{ref}'{role} in {table};{suggestion}":
        "{table} 中没有编号为 '{ref}'{role} 的机构；{suggestion}",
    "sets {attr} of {ref} to {value!r}, but {earlier} set it to {before!r}; keep one value":
        "将 {ref} 的 {attr} 设为 {value!r}，但{earlier}已设为 {before!r}；请只保留一个值",
    "{ref} is closed by {closing} and cannot be changed afterwards; drop one of the two changes or reorder them":
        "{ref} 已被{closing}关闭，之后不能再变更；请删去其中一项变更，或调整顺序",
    "already exists in {table}": "已存在于 {table} 中",
    "is already added by {adding}": "已由{adding}新增",
    "id '{ref}' {what}; give the new facility its own id": "编号 '{ref}' {what}；请给新机构一个独立编号",
    "{ref} is added by {adding}; give the final site in that add instead of relocating it":
        "{ref} 由{adding}新增；请直接在该新增中给出最终位置，不要再迁址",
    "relocates {ref} a second time ({moving} moves it already); keep one relocation with the final site":
        "再次迁址 {ref}（{moving}已将其迁址）；请只保留一次迁址，并给出最终位置",
    "closes {ref}, which {adding} adds; drop both changes": "关闭 {ref}，而它由{adding}新增；请删去这两项变更",
    "closes {ref}, into which {merging} merges another facility; merge into a facility that stays open":
        "关闭 {ref}，但{merging}把另一机构并入了它；请并入一个保留运营的机构",
    "{ref} cannot merge into itself": "{ref} 不能并入自身",
    "merges into {into}, which {closing} closes": "并入 {into}，但{closing}关闭了它",
    "{where}: {change}: sets ambulances, but the study's facility list gives no ambulance counts "
    "(facilities.ambulances_column), so the change would count for nothing; give the study its ambulance counts":
        "{where}：{change}：设置了救护车数，但研究的机构表没有救护车数（facilities.ambulances_column），"
        "该变更不会产生任何作用；请先为研究提供救护车数",
    "{site}: give both numbers of the site": "{site}：请给出位置的两个坐标值",
    "drivable": "可通车",
    "walkable": "可步行",
    "the site of {id} ({name}) at {site} lies {dist_m:,.0f} m from the nearest {mode} road, farther than max_road_m "
    "({max_road_m:g} m); check the coordinates (and their crs), or raise max_road_m if the site is meant to be that "
    "remote":
        "{id}（{name}）的位置 {site} 距最近的{mode}道路 {dist_m:,.0f} 米，超过 max_road_m（{max_road_m:g} 米）；"
        "请检查坐标（及其 crs），如确实位置偏远，请调大 max_road_m",
    "lon/lat given but crs {crs} is projected; give x/y in metres, or a geographic crs":
        "给出的是 lon/lat，但 crs {crs} 是投影坐标系；请给出以米为单位的 x/y，或改用地理坐标系",
    "x/y given but crs {crs} is geographic; give lon/lat, or the projected crs of the x/y (e.g. crs: EPSG:4545)":
        "给出的是 x/y，但 crs {crs} 是地理坐标系；请给出 lon/lat，或写明 x/y 所用的投影坐标系（如 crs: EPSG:4545）",
    "longitude {lon} / latitude {lat} look swapped (or out of range): lon is east-west (73..135 in China), lat "
    "north-south (18..54); swap them":
        "经度 {lon} / 纬度 {lat} 似乎写反了（或超出范围）：lon 为东西向（中国境内 73..135），lat 为南北向（18..54）；"
        "请对调",
    "{site} cannot be converted from {crs}: {reason}": "{site} 无法从 {crs} 转换：{reason}",
    "{site} looks swapped: the point lies outside the study area but {first} {b}, {second} {a} lies inside; swap the "
    "two values":
        "{site} 似乎写反了：该点在研究区外，而 {first} {b}、{second} {a} 在研究区内；请对调两个值",
    "{site} ({crs}) lies {km:,.1f} km outside the study area; check the coordinates and their crs, or set "
    "allow_outside: true on this change for a facility beyond the district (e.g. a tertiary hospital)":
        "{site}（{crs}）在研究区外 {km:,.1f} 公里；请检查坐标及其 crs；如是区外机构（如三级医院），请在该变更中设置 "
        "allow_outside: true",
    "--by: '{by}' names several standards ({found}); give one id (standards: {listed})":
        "--by：'{by}' 对应多个标准（{found}）；请给出一个编号（标准：{listed}）",
    "; did you mean '{id}'?": "；是否指 '{id}'？",
    "--by: no standard '{by}'{hint} (standards: {listed})": "--by：没有标准 '{by}'{hint}（标准：{listed}）",
    "no scenarios to compare": "没有可比较的方案",
    "the scenario file {path} is given twice (also as {other}); give each scenario once":
        "方案文件 {path} 给了两次（另一次为 {other}）；每个方案只需给一次",
    "scenarios compared together must share one base study; got {listed}":
        "一起比较的方案须基于同一个研究；实际为 {listed}",
    "the evaluation compared was not made by applying changes; compare an evaluation with the result of its apply()":
        "被比较的评估不是通过应用变更得到的；请将一个评估与其 apply() 的结果比较",
    # batch audits: the Dask scheduler, the studies found, a lost task (batch/*)
    "check the address (e.g. tcp://10.0.0.5:8786) and that the scheduler is running":
        "请检查地址（如 tcp://10.0.0.5:8786），并确认调度器正在运行",
    "--scheduler {address}: not a scheduler address ({reason}); {advice}":
        "--scheduler {address}：不是调度器地址（{reason}）；{advice}",
    "the Dask scheduler at {address} closed the connection without answering; {advice}":
        "{address} 上的 Dask 调度器未应答即关闭了连接；{advice}",
    "the Dask scheduler at {address} did not answer within {timeout_s:g} s (--scheduler-timeout); {advice}":
        "{address} 上的 Dask 调度器 {timeout_s:g} 秒内无应答（--scheduler-timeout）；{advice}",
    "cannot connect to the Dask scheduler at {address} ({reason}); {advice}":
        "无法连接 {address} 上的 Dask 调度器（{reason}）；{advice}",
    "batch audits need Dask: pip install 'healthreach[batch]'": "批量评估需要 Dask：pip install 'healthreach[batch]'",
    "{path}: not a study file (.yaml), a folder of studies or a table (.csv, .xlsx)":
        "{path}：不是研究文件（.yaml）、研究文件夹或表格（.csv、.xlsx）",
    "no study files found in {paths} (looked for study.yaml and *.study.yaml)":
        "在 {paths} 中没有找到研究文件（查找了 study.yaml 和 *.study.yaml）",
    "{path}: needs a 'study' column of study files or folders; the table has: {columns}":
        "{path}：需要一列 'study'，列出研究文件或文件夹；表中现有列：{columns}",
    " (the worker process died while auditing this study, often for lack of memory: use fewer workers or a larger "
    "memory limit)":
        "（评估该研究时工作进程意外退出，常因内存不足：请减少 --workers，或调大 --memory-limit）",
    # the progress and status lines of every command (cli/*)
    "reading the study file": "读取研究文件",
    "reading the study": "读取研究",
    "computing travel times and standards": "计算出行时间和各项标准",
    "computing the baseline": "计算现状",
    "drawing the map": "绘制地图",
    "drawing the page": "生成页面",
    "drawing the {page} poster": "绘制 {page} 海报",
    "writing outputs": "写出结果",
    "outputs in {folder} ({files}) in {seconds:.1f} s": "结果已写入 {folder}（{files}），用时 {seconds:.1f} 秒",
    "reading the scenario": "读取方案",
    "reading the scenarios": "读取各方案",
    "evaluating the scenario": "评估方案",
    "evaluating {name}": "评估 {name}",
    "from scratch": "从头计算",
    "updated from the cells that changed": "仅更新变化的网格",
    " (baseline {baseline_s:.2f} s; scenario {how}: {scenario_ms:.0f} ms)":
        "（现状 {baseline_s:.2f} 秒；方案{how}：{scenario_ms:.0f} 毫秒）",
    "table (every standard) in {file}": "比较表（全部标准）已写入 {file}",
    "--workers is ignored with --scheduler (the cluster has its own workers)":
        "使用 --scheduler 时忽略 --workers（集群有自己的工作进程）",
    "{reused} reused · {failed} failed": "复用 {reused} · 失败 {failed}",
    "auditing": "评估中",
    "[red]error[/] {folder}: {problem}": "[red]失败[/] {folder}：{problem}",
    "a local cluster": "本机集群",
    "; dashboard {link}": "；监控面板 {link}",
    "{n} studies on {where} ({workers} workers){dashboard}":
        "{n} 个研究，运行于{where}（{workers} 个工作进程）{dashboard}",
    "the scheduler has no workers yet; studies wait until one joins": "调度器尚无工作进程；研究将等待工作进程加入",
    "{n} studies: {audited} audited, {reused} reused (unchanged), {failed} failed; {failing} of {districts} "
    "districts fail at least one standard. Summary in {folder} ({files}) in {seconds:.1f} s":
        "{n} 个研究：评估 {audited} 个，复用 {reused} 个（未变化），失败 {failed} 个；{districts} 个区县中有 "
        "{failing} 个至少一项标准未达标。汇总已写入 {folder}（{files}），用时 {seconds:.1f} 秒",
    "--host {host}: not an address of this computer; give its IP address, or 0.0.0.0 for all":
        "--host {host}：不是本机地址；请给出本机 IP 地址，或用 0.0.0.0 监听全部地址",
    "is in use": "已被占用",
    "cannot be used ({reason})": "无法使用（{reason}）",
    "port {port} on {host} {reason}: choose another --port": "{host} 上的端口 {port} {reason}：请换一个 --port",
    "{study}: open {address} in a browser (Ctrl+C stops the server)":
        "{study}：请在浏览器中打开 {address}（Ctrl+C 停止服务）",
    "anyone with this address (its token) can change this session's scenario; share it only with the meeting":
        "任何持有此地址（含令牌）的人都能修改本次会话的方案；请只发给参会人员",
    # the what-if page's answers (serve/app.py)
    "{name} is not a number JSON allows; give finite numbers": "{name} 不是 JSON 允许的数值；请给出有限数值",
    "the body is not UTF-8 text": "请求内容不是 UTF-8 文本",
    "the body is not valid JSON: {reason}": "请求内容不是有效的 JSON：{reason}",
    "the body is larger than {limit:,} bytes": "请求内容超过 {limit:,} 字节",
    "this server needs its token: open the address it printed at start (…/?token=...), or send the X-Token header":
        "此服务需要令牌：请打开服务启动时显示的地址（…/?token=...），或发送 X-Token 请求头",
    "no session: start one with POST /api/sessions and send its id in the X-Session header":
        "没有会话：请用 POST /api/sessions 新建会话，并在 X-Session 请求头中发送其编号",
    "unknown or expired session (the oldest are dropped when too many tabs are open): reload the page, or start one "
    "with POST /api/sessions":
        "会话不存在或已过期（打开的标签页过多时，最早的会话会被丢弃）：请刷新页面，或用 POST /api/sessions 新建会话",
    "no static file {name!r}": "没有静态文件 {name!r}",
    'expected one change as a JSON object in the scenario file\'s format, such as {{"relocate": "THC07", "to": '
    '{{"lon": 107.79, "lat": 29.39}}}}':
        '应为一项变更，格式同方案文件的 JSON 对象，例如 {{"relocate": "THC07", "to": {{"lon": 107.79, "lat": '
        "29.39}}}}",
    "the scenario file is not UTF-8 text; save it as UTF-8": "方案文件不是 UTF-8 文本；请另存为 UTF-8",
    "the server could not answer ({error}); see its log": "服务无法应答（{error}）；请查看服务日志",
    # output folders and files (outputs.py)
    "file": "文件",
    "folder": "文件夹",
    "the output path {path!r} holds control characters (a tab, a line break, ...); choose a plain name":
        "输出路径 {path!r} 含控制字符（制表符、换行等）；请换一个普通名称",
    "the output {kind} name {name!r} is {n} bytes long; at most {most} bytes leave room for the temporary folder it "
    "is built in (255 bytes is the file system's limit)":
        "输出{kind}名 {name!r} 长 {n} 字节；最多 {most} 字节，才能为生成时的临时文件夹留出余地（文件系统上限为 255 "
        "字节）",
    "is the input folder": "就是输入文件夹",
    "is an input file": "就是输入文件",
    "contains the input folder": "包含输入文件夹",
    "lies inside the input folder": "位于输入文件夹",
    "the output {kind} {out} {relation} {folder}; healthreach never writes where its inputs are. Choose another "
    "folder, e.g. --out {suggested}":
        "输出{kind} {out} {relation} {folder}；healthreach 从不在输入数据所在处写入。请换一个文件夹，例如 --out "
        "{suggested}",
    "the output folder {out} is not empty and was not written by healthreach (no {manifest}); choose an empty or new "
    "folder, e.g. --out {suggested}, or add --force to write into it (files of the same names are replaced, others "
    "kept)":
        "输出文件夹 {out} 不为空，且不是 healthreach 写的（没有 {manifest}）；请换一个空的或新的文件夹，例如 --out "
        "{suggested}，或加 --force 写入其中（同名文件会被替换，其他文件保留）",
    "the output file {out} is a folder; give a file name, e.g. {example}":
        "输出文件 {out} 是一个文件夹；请给出文件名，例如 {example}",
    "the output folder {out} is a file; give a folder": "输出文件夹 {out} 是一个文件；请给出文件夹",
    "the output {kind} {out} lies under {parent}, which is a file, not a folder":
        "输出{kind} {out} 位于 {parent} 之下，而 {parent} 是文件，不是文件夹",
    "cannot write the output {kind} {out}: {existing} is not writable ({reason}); choose a folder you can write to":
        "无法写入输出{kind} {out}：{existing} 不可写（{reason}）；请选择有写入权限的文件夹",
    "the output folder {out} is not empty and was not written by healthreach (no {manifest}); add --force to write "
    "into it":
        "输出文件夹 {out} 不为空，且不是 healthreach 写的（没有 {manifest}）；如要写入其中，请加 --force",
    # maps and posters (maps/*, poster/*)
    "the offline map needs the 'xstatic-leaflet' package: pip install xstatic-leaflet (it is a dependency of "
    "healthreach)":
        "离线地图需要 'xstatic-leaflet' 包：pip install xstatic-leaflet（它是 healthreach 的依赖）",
    "the offline map still loads {n} resource(s) from the network: {shown}. Remove the layer or plugin that adds "
    "them, or draw the map without --offline":
        "离线地图仍会从网络加载 {n} 个资源：{shown}。请去掉加入它们的图层或插件，或不加 --offline 绘制地图",
    "the Tianditu basemap needs a key: pass --tianditu-key KEY or set the {env} environment variable (a free key "
    "comes from the Tianditu developer site), or choose --basemap osm|none|amap":
        "天地图底图需要密钥：请用 --tianditu-key KEY 或设置环境变量 {env}（可在天地图开发者网站免费申请），或改用 "
        "--basemap osm|none|amap",
    "--tianditu-key: {key!r}… is not a Tianditu key (8-64 letters and digits)":
        "--tianditu-key：{key!r}… 不是天地图密钥（应为 8-64 位字母和数字）",
    "unknown basemap {name!r}: choose one of {names}": "未知底图 {name!r}：请从 {names} 中选择",
    "the profile has no circle standard to shade townships by; give a column":
        "标准配置中没有可用于乡镇着色的医疗圈标准；请指定一列",
    "a road layer store is for other lines than the ones drawn": "道路图层缓存对应的道路线与要绘制的不同",
    "{env}={chosen}: no such font file. Give the path of a .ttf, .otf or .ttc file, or unset {env} to use an "
    "installed CJK font":
        "{env}={chosen}：没有这个字体文件。请给出 .ttf、.otf 或 .ttc 文件的路径，或取消 {env} 以使用已安装的中文字体",
    "no installed font has the characters {chars!r} the poster needs, so they would print as empty boxes. Install a "
    "Chinese font (Debian/Ubuntu: apt-get install fonts-noto-cjk or fonts-wqy-microhei; Windows and macOS have one), "
    "or set {env} to a .ttf/.otf/.ttc file that has them; or draw the poster with --lang en if only the labels are "
    "Chinese":
        "已安装的字体都没有海报所需的字符 {chars!r}，打印出来会是空框。请安装中文字体（Debian/Ubuntu：apt-get "
        "install fonts-noto-cjk 或 fonts-wqy-microhei；Windows 和 macOS 已自带），或把 {env} 设为含这些字符的 "
        ".ttf/.otf/.ttc 文件；如只有标签是中文，也可用 --lang en 绘制海报",
    "the map is {width_m} m wide: a scale bar needs a positive width": "地图宽 {width_m} 米：比例尺需要正的宽度",
    "poster page {page!r} is not one of {pages}; use --poster A3 or --poster A4":
        "海报纸张 {page!r} 不在 {pages} 之中；请用 --poster A3 或 --poster A4",
    # coordinate systems, the grid and the roads (crs.py, grid.py, network.py)
    "{where}: {value!r} is an offset Chinese web-map datum, not a projection CRS; convert it with to_wgs84() first":
        "{where}：{value!r} 是国内网络地图的偏移坐标，不是投影坐标系；请先用 to_wgs84() 转换",
    "{where}: CRS must be a string or EPSG integer, got {type} {value!r}; accepted: {accepted}":
        "{where}：坐标系应为字符串或 EPSG 整数，实际为 {type} {value!r}；可用：{accepted}",
    "{where}: unknown CRS {value!r} ({reason}); accepted: {accepted}":
        "{where}：未知坐标系 {value!r}（{reason}）；可用：{accepted}",
    "{n} point(s) could not be transformed with {name}; check the CRS and the x/y (lon/lat) order":
        "有 {n} 个点无法用 {name} 转换；请检查坐标系及 x/y（lon/lat）的顺序",
    "study centre must be two numbers in degrees, got lon={lon!r}, lat={lat!r}":
        "研究区中心应为两个以度为单位的数，实际为 lon={lon!r}，lat={lat!r}",
    "study centre lon={lon}, lat={lat} is not a valid WGS84 position (lon -180..180, lat -90..90 degrees); are lon "
    "and lat swapped or projected?":
        "研究区中心 lon={lon}，lat={lat} 不是有效的 WGS84 位置（lon -180..180，lat -90..90 度）；是否写反了，"
        "或是投影坐标？",
    "study centre lat={lat} is polar; no UTM/Gauss-Krueger zone applies beyond 84 degrees":
        "研究区中心 lat={lat} 位于极地；超过 84 度没有适用的 UTM/高斯-克吕格分带",
    "{where}: grid_m: {cell_m:g} m leaves only {cells:,.1f} cells in the study area ({area_km2:,.1f} km²); at least "
    "{least} are needed for the shares to mean anything: use grid_m {finest} or less (100 is usual)":
        "{where}：grid_m：{cell_m:g} 米时研究区（{area_km2:,.1f} 平方公里）只有 {cells:,.1f} 个网格；至少需要 "
        "{least} 个，比例才有意义：请用 grid_m {finest} 或更小（通常为 100）",
    "{where}: grid_m: {cell_m:g} m over the study area's extent ({width_km:,.1f} x {height_km:,.1f} km) makes "
    "{n_cells:,} cells, needing about {need} of memory, more than half of this machine's {memory}: use grid_m "
    "{coarsest} or more":
        "{where}：grid_m：{cell_m:g} 米覆盖研究区范围（{width_km:,.1f} x {height_km:,.1f} 公里）共 {n_cells:,} "
        "个网格，约需 {need} 内存，超过本机 {memory} 的一半：请用 grid_m {coarsest} 或更大",
    "unknown travel mode '{mode}' (modes: {modes})": "未知出行方式 '{mode}'（可用：{modes}）",
    "unknown weight '{weight}' (weights: {weights})": "未知权重 '{weight}'（可用：{weights}）",
    "no road in the network can be used by mode '{mode}' (classes it may not enter midway: {classes})":
        "路网中没有出行方式 '{mode}' 可用的道路（不能中途驶入的道路等级：{classes}）",
    "none": "无",
    "nodes without a segment: {nodes}": "没有路段的节点：{nodes}",
    "{n} points without finite coordinates (first at row {row}) cannot be attached to a road; drop or fix them":
        "有 {n} 个点坐标不是有限数值（第一个在第 {row} 行），无法接入道路；请删除或修正",
    "{where}: roads must be in a projected (metre) CRS before building":
        "{where}：构建路网前，道路须为投影坐标系（米）",
    "{where}: no line geometry found": "{where}：没有找到线要素",
    "{where}: road classes without a speed: {listed}. Add them under `speeds_kmh:` in the study file (km/h, 0 to "
    "forbid driving).":
        "{where}：以下道路等级没有车速：{listed}。请在研究文件的 `speeds_kmh:` 下补上（公里/小时，0 表示禁止通车）。",
    # evaluations and standards (evaluation.py, diff.py, gis.py, standards/*)
    "the evaluation compared was not made by applying changes": "被比较的评估不是通过应用变更得到的",
    "evaluations of different studies cannot be compared": "不同研究的评估不能相互比较",
    "the changed facility table must keep this evaluation's rows in order and append new facilities":
        "变更后的机构表须按原顺序保留本评估的各行，新机构追加在后",
    "no figure '{id}' (figures: {figures})": "没有指标 '{id}'（指标：{figures}）",
    "none listed": "未列出",
    " or flagged emergency": "或标为急救",
    "no facility of group '{group}' (types: {types}{flag}) in the facility table":
        "机构表中没有 '{group}' 组的机构（类型：{types}{flag}）",
    "per-facility travel times follow the first circle standard; this profile has none":
        "各机构的出行时间依据第一项医疗圈标准；此标准配置没有医疗圈标准",
    "the facility list gives no {counts} counts (facilities.{counts}_column)":
        "机构表没有 {counts} 数量（facilities.{counts}_column）",
    "capacity coverage: {people:,.0f} people or a capacity above {most:,.0f} is beyond the flow solver's whole "
    "numbers":
        "容量覆盖：{people:,.0f} 人或超过 {most:,.0f} 的容量超出了流量求解器的整数范围",
    "figure": "指标",
    "township column": "乡镇列",
    "facility column": "机构列",
    "profile '{profile}': the {what} '{name}' of standard '{id}' for the population group '{group}' is also written "
    "by standard '{owner}'; rename that standard":
        "标准配置 '{profile}'：标准 '{id}' 针对人群 '{group}' 的{what} '{name}' 也由标准 '{owner}' 写出；"
        "请给该标准改名",
    "profile '{profile}': standards '{owner}' and '{id}' would both write the {what} '{name}'; rename one of them "
    "(columns are named from the id without its threshold, plus the threshold)":
        "标准配置 '{profile}'：标准 '{owner}' 和 '{id}' 都会写出{what} '{name}'；"
        "请给其中一个改名（列名由去掉阈值的编号加阈值构成）",
    # the road network's build report: network.py
    "{segments} road segments read; network of {nodes} nodes, {edges} directed edges, {km:.1f} km":
        "读入道路 {segments} 段；路网 {nodes} 个节点、{edges} 条有向边，共 {km:.1f} 公里",
    "{n} multi-part lines split into parts": "{n} 条多段线已拆分为单段",
    "{n} segment ends merged with a neighbour within tolerance": "{n} 个路段端点在容差内与相邻端点合并",
    "{n} zero-length or closed segments dropped": "已去除 {n} 条长度为零或首尾闭合的路段",
    "{n} duplicate segments dropped (same ends, class, direction and length)":
        "已去除 {n} 条重复路段（端点、等级、方向和长度均相同）",
    "{n} segments of class '{cls}' dropped (no speed for this class)":
        "已去除等级为 '{cls}' 的路段 {n} 条（该等级没有设定车速）",
    "{n} disconnected parts dropped ({nodes} nodes, {km:.1f} km)":
        "已去除与主路网不连通的部分 {n} 处（{nodes} 个节点，{km:.1f} 公里）",
    # command-line usage mistakes: cli/app.py
    "no option {option} (did you mean {options}?)": "没有 {option} 这个选项（是否应为 {options}？）",
    "no option {option}": "没有 {option} 这个选项",
    "{param} is missing": "缺少 {param}",
    "{param} takes one of {choices}, not {value}": "{param} 的取值应为 {choices} 之一，而不是 {value}",
    "invalid value for {param}: {detail}": "{param} 的取值无效：{detail}",
    "no command '{name}'; the commands are {commands}": "没有 '{name}' 这个命令；可用的命令：{commands}",
    "Try '{command} -h' for help.": "运行 '{command} -h' 查看帮助。",
    "{option} needs a value": "{option} 后面需要给出取值",
    "the command line is not right: {detail}": "命令行有误：{detail}",
}
