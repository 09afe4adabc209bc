# Install-time part of deploy/CMakeLists.txt: CMAKE_INSTALL_PREFIX is the final prefix here
# (/usr in the Debian package). Writes
#  - the systemd unit, its ExecStart at the installed yuqingd;
#  - /etc/yuqing/yuqing.yaml: config/yuqing.yaml with production paths, every key still
#    documented. Each path replaced must be found, so that a change to config/yuqing.yaml
#    cannot ship a development path.
# Installed straight onto this machine (no DESTDIR, not cpack), an existing
# /etc/yuqing/yuqing.yaml and /etc/yuqing/keyword-sets are kept, and the keyword sets are
# seeded when missing (the package's postinst does that on its first install).
set(prefix "${CMAKE_INSTALL_PREFIX}")
set(seeds "${prefix}/${YUQING_DATADIR}/seeds")
file(MAKE_DIRECTORY "${YUQING_STAGE}")

function(yuqing_replace var from to)
  string(FIND "${${var}}" "${from}" at)
  if(at EQUAL -1)
    message(FATAL_ERROR "yuqing install: '${from}' not found (deploy/package/install.cmake)")
  endif()
  string(REPLACE "${from}" "${to}" out "${${var}}")
  set(${var} "${out}" PARENT_SCOPE)
endfunction()

file(READ "${YUQING_SOURCE_DIR}/deploy/yuqingd.service" unit)
if(NOT unit MATCHES "\nExecStart=[^ ]*/yuqingd ")
  message(FATAL_ERROR "yuqing install: no ExecStart=.../yuqingd in deploy/yuqingd.service")
endif()
string(REGEX REPLACE "\nExecStart=[^ ]*/yuqingd " "\nExecStart=${prefix}/${YUQING_BINDIR}/yuqingd " unit "${unit}")
file(WRITE "${YUQING_STAGE}/yuqingd.service" "${unit}")
file(INSTALL "${YUQING_STAGE}/yuqingd.service" DESTINATION "${prefix}/lib/systemd/system")

file(READ "${YUQING_SOURCE_DIR}/config/yuqing.yaml" cfg)
yuqing_replace(cfg "\n  path: ../var/data\n" "\n  path: /var/lib/yuqing\n")
yuqing_replace(cfg "\n  dir: ../seeds/keyword-sets\n" "\n  dir: /etc/yuqing/keyword-sets\n")
yuqing_replace(cfg "\n  path: ../seeds/plan.yaml\n" "\n  path: ${seeds}/plan.yaml\n")
yuqing_replace(cfg "\n  calendar_dir: ../seeds/calendar\n" "\n  calendar_dir: ${seeds}/calendar\n")
yuqing_replace(cfg "\n  gazetteer: ../seeds/gazetteer/jiangmen.yaml\n" "\n  gazetteer: ${seeds}/gazetteer/jiangmen.yaml\n")
file(WRITE "${YUQING_STAGE}/yuqing.yaml"
  "# As installed: config/yuqing.yaml with the paths of this installation.\n"
  "# `kafka.brokers: embedded` is for a first try only: set your Kafka cluster.\n${cfg}")
if("$ENV{DESTDIR}" STREQUAL "" AND EXISTS /etc/yuqing/yuqing.yaml)
  message(STATUS "Kept: /etc/yuqing/yuqing.yaml (the new one is ${YUQING_STAGE}/yuqing.yaml)")
else()
  file(INSTALL "${YUQING_STAGE}/yuqing.yaml" DESTINATION /etc/yuqing)
endif()
if("$ENV{DESTDIR}" STREQUAL "" AND NOT EXISTS /etc/yuqing/keyword-sets)
  file(INSTALL "${YUQING_SOURCE_DIR}/seeds/keyword-sets" DESTINATION /etc/yuqing)
endif()
