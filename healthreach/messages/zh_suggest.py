"""Chinese for the messages of site suggestion: candidates, coverage, the search and its options."""

ZH: dict[str, str] = {
    "{one}; {others}": "{one}；{others}",
    "--spacing-m must be a positive number of metres, got {spacing_m:g}":
        "--spacing-m 须为正的米数，现为 {spacing_m:g}",
    "{points:,} grid points {spacing_m:g} m apart in the study area, {sites:,} distinct road sites":
        "研究区内间距 {spacing_m:g} 米的网格点 {points:,} 个，落到道路上的不同站点 {sites:,} 个",
    "{path}: no candidate sites (the file has no rows)": "{path}：没有候选站点（文件没有数据行）",
    "row {row} (id {id}, lon {lon:.6f}, lat {lat:.6f}): {problem}":
        "第 {row} 行（编号 {id}，经度 {lon:.6f}，纬度 {lat:.6f}）：{problem}",
    "{path}: {count} candidate site(s) cannot be used: {listed}{more}. Check the coordinates and --candidates-crs "
    "(now {crs}), or drop these rows":
        "{path}：{count} 个候选站点无法使用：{listed}{more}。请检查坐标和 --candidates-crs（当前为 {crs}），"
        "或删去这些行",
    "{path}: row {row} (id {id}): column '{column}' is not a number: {value!r} ({rows} rows like this)":
        "{path}：第 {row} 行（编号 {id}）：列“{column}”不是数字：{value!r}（共 {rows} 行如此）",
    "--min-spacing-m must be 0 or more metres, got {min_spacing_m:g}":
        "--min-spacing-m 须为 0 或更大的米数，现为 {min_spacing_m:g}",
    "no candidate sites left: {notes}. Use a smaller --spacing-m or --min-spacing-m, fewer exclusion layers, or "
    "another candidate file":
        "没有剩下的候选站点：{notes}。请减小 --spacing-m 或 --min-spacing-m、减少排除图层，或换一个候选站点文件",
    "{count:,} candidate sites": "候选站点 {count:,} 个",
    "{path}: the layer has no coordinate system; save it with one (e.g. EPSG:4326)":
        "{path}：图层没有坐标系；请带坐标系另存（如 EPSG:4326）",
    "{path}: no coordinate columns: give lon and lat (or x and y, with --candidates-crs); the file has: {columns}":
        "{path}：没有坐标列：请给出 lon 和 lat（或 x 和 y，并用 --candidates-crs 说明坐标系）；文件中的列：{columns}",
    "{count:,} candidate sites read from {file}": "从 {file} 读入候选站点 {count:,} 个",
    "{path}: the exclusion layer has no coordinate system; save it with one (e.g. EPSG:4326)":
        "{path}：排除图层没有坐标系；请带坐标系另存（如 EPSG:4326）",
    "{path}: the exclusion layer has no polygons (geometry types: {types}); give areas to keep new sites out of":
        "{path}：排除图层中没有面（几何类型：{types}）；请给出新站点不得落入的区域",
    "{count:,} inside the exclusion layer {file}": "{count:,} 个位于排除图层 {file} 内",
    "{count:,} within {min_spacing_m:g} m of an existing {type} ({existing} of them)":
        "{count:,} 个距现有{type}（共 {existing} 处）不足 {min_spacing_m:g} 米",
    "lies {km:,.1f} km outside the study area": "位于研究区外 {km:,.1f} 公里",
    "lies {metres:,.0f} m from the nearest {road}, farther than {max_road_m:g} m":
        "距最近的{road} {metres:,.0f} 米，超过 {max_road_m:g} 米",
    "{path}: row {row} (id {id}): longitude {lon} / latitude {lat} look swapped or out of range; '{lon_column}' must "
    "hold longitude and '{lat_column}' latitude ({rows} rows like this)":
        "{path}：第 {row} 行（编号 {id}）：经度 {lon} / 纬度 {lat} 似乎颠倒或超出范围；“{lon_column}”列应为经度，"
        "“{lat_column}”列应为纬度（共 {rows} 行如此）",
    "{path}: exclusion layer cannot be read ({error}: {detail})": "{path}：无法读取排除图层（{error}：{detail}）",
    "drivable road": "可通车道路",
    "walkable road": "可步行道路",
    "--count must be a whole number of sites, 1 or more; got {count!r}":
        "--count 须为不小于 1 的整数站点数，现为 {count!r}",
    "--method must be one of {methods}; got {method!r}": "--method 须为 {methods} 之一，现为 {method!r}",
    "--time-limit-s must be a positive number of seconds; got {seconds!r}":
        "--time-limit-s 须为正的秒数，现为 {seconds!r}",
    "computing the baseline before the new sites": "计算新增站点前的现状",
    "placing candidate sites": "布设候选站点",
    "coverage of {count:,} candidate sites": "计算 {count:,} 个候选站点的覆盖范围",
    "none of the {count:,} candidate sites would bring anyone new within {objective} ({cells:,} populated cells are "
    "outside it today); try other candidates, a smaller --spacing-m, or another --standard":
        "{count:,} 个候选站点都不能让任何新增人口进入 {objective}（现状有 {cells:,} 个有人口的网格在其外）；"
        "请换候选站点、减小 --spacing-m，或换一个 --standard",
    "greedy search": "贪心搜索",
    "checking the sites through the scenario engine": "用情景引擎核验站点",
    "--type {name}: type '{name}' is not a facility type of profile '{profile}' (known: {known}); the search "
    "measures access to: {members}":
        "--type {name}：“{name}”不是配置“{profile}”中的机"
        "构类型（已有：{known}）；本次搜索衡量到这些机构的可达性：{members}",
    "--type {name}: type '{type}' does not count for group '{group}'; the search measures access to: {members}":
        "--type {name}：类型“{type}”不属于机构组“{group}”；本次搜索衡量到这些机构的可达性：{members}",
    "only {found} site(s) bring anyone new within the standard; the other candidates would cover no one new":
        "只有 {found} 个站点能带来新增覆盖；其余候选站点不会新增覆盖任何人",
    "exact search for {k} site(s)": "精确求解 {k} 个站点",
    "internal check failed: the coverage sets count {counted:,.3f} people newly covered by {figure}, the scenario "
    "engine {engine:,.3f}; please report this with the study":
        "内部核验失败：覆盖集合计得 {figure} 新增覆盖 {counted:,.3f}"
        " 人，情景引擎为 {engine:,.3f} 人；请连同研究数据报告此问题",
    "--group {group}: no population group '{group}' in study '{study}' (its groups: {known}); groups are declared "
    "under population_groups: in study.yaml":
        "--group {group}：研究“{study}”中没有人群“{group}”（已有人群：{known}）；人群在 study.yaml 的 "
        "population_groups: 下声明",
    "--tier-min {minutes} is the time limit of a --tier search; name the tier with --tier":
        "--tier-min {minutes} 是按层级（--tier）搜索的时限；请用 --tier 指明层级",
    "--standard {standard} and --tier {tier}: name one objective, a standard or a tier":
        "--standard {standard} 与 --tier {tier}：只能指定一个目标，标准或层级",
    "--tier {tier}: profile '{profile}' has no tiers standard (kind: tiers)":
        "--tier {tier}：配置“{profile}”中没有分级标准（kind: tiers）",
    "--tier {tier}: no tier '{tier}' in standard '{standard}' (its tiers: {known})":
        "--tier {tier}：标准“{standard}”中没有层级“{tier}”（已有层级：{known}）",
    "--tier-min must be a positive number of minutes; got {minutes}": "--tier-min 须为正的分钟数，现为 {minutes}",
    "--tier {tier}: the profile has no circle standard to take the time limit from; give it with --tier-min":
        "--tier {tier}：配置中没有服务圈标准可取时限；请用 --tier-min 给出",
    "the profile has no circle standard; name a travel-time standard with --standard":
        "配置中没有服务圈标准；请用 --standard 指定一个出行时间标准",
    "--standard {standard}: no standard in profile '{profile}'; sites can be searched for these: {usable}":
        "--standard {standard}：配置“{profile}”中没有该标准；可搜索站点的标准：{usable}",
    "--standard {standard}: a '{kind}' standard, not a travel-time one, in profile '{profile}'; sites can be "
    "searched for these: {usable}{tiers}":
        "--standard {standard}：配置“{profile}”中这是“{kind}"
        "”类标准，不是出行时间标准；可搜索站点的标准：{usable}{tiers}",
    "; for a tier's catchments use --tier": "；按层级服务范围搜索请用 --tier",
    "{n} new {type} for {objective} ({method})": "{objective}：新增 {n} 处{type}（{method}）",
    "--count must be 1 or more sites; got {count}": "--count 须为 1 个或更多站点，现为 {count}",
    "{path}: no such file (given to {option})": "{path}：文件不存在（由 {option} 给出）",
    "; warm-started from greedy's sites ({people:,.0f} people)": "；以贪心解为初始解（{people:,.0f} 人）",
    "reading the study file and the candidate sites": "读取研究文件和候选站点",
    "writing the suggested sites": "写出建议站点",
    "outputs in {folder} ({files}) in {seconds:.1f} s; check them with: healthreach scenario {scenario}":
        "输出在 {folder}（{files}），用时 {seconds:.1f} 秒；可用以下命令核验：healthreach scenario {scenario}",
    "drawing the map of the suggested sites": "绘制建议站点地图",
    "candidates: {note}": "候选站点：{note}",
    "{figure}: {before:.2%} -> {after:.2%} ({people:,.0f} people newly covered; scenario engine: {engine:,.0f})":
        "{figure}：{before:.2%} -> {after:.2%}（新增覆盖 {people:,.0f} 人；情景引擎：{engine:,.0f}）",
    "the new sites join the {tier} tier's catchments: {people} people":
        "新站点纳入{tier}服务网络后的服务人口：{people} 人",
    "upper bound for {k} site(s): {bound:,.0f} people; greedy is within {gap:.2f} % of it":
        "{k} 个站点的上界：{bound:,.0f} 人；贪心解与之相差不超过 {gap:.2f}%",
    "exact, {k} site(s): {people:,.0f} people, {status}; bound {bound:,.0f} (LP {lp:,.0f}), gap {gap:.2f} %, "
    "{seconds:.1f} s{start}":
        "精确解，{k} 个站点：{people:,.0f} 人，{status}；上界 {bound:,.0f}（线性松弛 {lp:,.0f}），差距 {gap:.2f}%，"
        "{seconds:.1f} 秒{start}",
    "proven optimal": "已证明最优",
    "proven optimal (nothing to cover)": "已证明最优（无可覆盖人口）",
    "proven optimal (every candidate counted)": "已证明最优（逐一计算了每个候选站点）",
    "stopped ({reason})": "已停止（{reason}）",
    "{status}; greedy's sites kept, the best known": "{status}；保留贪心解站点，为已知最优",
}
