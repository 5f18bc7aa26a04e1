# Install components and Debian packages (cpack -G DEB, see scripts/package.sh):
#   ouroboros-tools   component "tools":  ouroboros-cli, ouroboros-demo-writer, their man pages,
#                                         bash completion for ouroboros-cli
#   ouroboros-viewer  component "viewer": the viewer, its man page, desktop entry, icons, AppStream
#   libouroboros-dev  component "dev":    headers, static libraries, the CMake package, the spdlog
#                                         sink and the Qt message handler
# The version is the project version; the binaries' dependencies are computed by dpkg-shlibdeps.

set(OUROBOROS_PACKAGING_DIR ${PROJECT_SOURCE_DIR}/packaging)
set(_packages tools:ouroboros-tools viewer:ouroboros-viewer dev:libouroboros-dev)

# --- man pages (help2man from each program's own --help) -------------------------------------
option(OUROBOROS_BUILD_MANPAGES "Generate the man pages with help2man (scripts/package.sh)" OFF)
if(OUROBOROS_BUILD_MANPAGES)
  find_program(OUROBOROS_HELP2MAN help2man REQUIRED)
  find_program(OUROBOROS_GZIP gzip REQUIRED)
  set(_man_dir ${PROJECT_BINARY_DIR}/man)
  set(_man_pages "")
  # ouroboros_manpage(PAGE TARGET COMPONENT "one-line description" [SUBCOMMAND])
  # help2man runs a small wrapper named PAGE so the page, its NAME and its usage line carry the
  # program's installed name (and, for a subcommand, "ouroboros-cli-tail" like git-log(1)).
  function(ouroboros_manpage page target component description)
    if(NOT TARGET ${target})
      return()
    endif()
    set(wrapper ${_man_dir}/wrappers/${page})
    file(GENERATE OUTPUT ${wrapper}
         CONTENT "#!/bin/sh\nPATH=\"$<TARGET_FILE_DIR:${target}>:$PATH\" QT_QPA_PLATFORM=offscreen exec $<TARGET_FILE_NAME:${target}> ${ARGN} \"$@\"\n"
         FILE_PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ GROUP_EXECUTE WORLD_READ
                          WORLD_EXECUTE)
    add_custom_command(
      OUTPUT ${_man_dir}/${page}.1.gz
      COMMAND ${OUROBOROS_HELP2MAN} --no-info --section=1 --version-string=${PROJECT_VERSION}
              --name=${description} --include=${OUROBOROS_PACKAGING_DIR}/see-also.h2m
              --source=Ouroboros --manual=Ouroboros --output=${_man_dir}/${page}.1 ${wrapper}
      COMMAND ${OUROBOROS_GZIP} -9nf ${_man_dir}/${page}.1
      DEPENDS ${target} ${wrapper} ${OUROBOROS_PACKAGING_DIR}/see-also.h2m
      COMMENT "Generating the man page ${page}(1)"
      VERBATIM)
    install(FILES ${_man_dir}/${page}.1.gz DESTINATION ${CMAKE_INSTALL_MANDIR}/man1
            COMPONENT ${component})
    set(_man_pages ${_man_pages} ${_man_dir}/${page}.1.gz PARENT_SCOPE)
  endfunction()
  ouroboros_manpage(ouroboros-cli ouroboros_cli tools "read Ouroboros shared-memory log segments")
  ouroboros_manpage(ouroboros-cli-tail ouroboros_cli tools
                    "print an Ouroboros log segment's entries as they arrive" tail)
  ouroboros_manpage(ouroboros-cli-list ouroboros_cli tools
                    "list every Ouroboros log segment on this machine" list)
  ouroboros_manpage(ouroboros-cli-inspect ouroboros_cli tools
                    "show one Ouroboros log segment in detail" inspect)
  ouroboros_manpage(ouroboros-cli-forward ouroboros_cli tools
                    "ship an Ouroboros log segment's entries to stdout or syslog" forward)
  ouroboros_manpage(ouroboros-demo-writer ouroboros_demo_writer tools
                    "write realistic log records into an Ouroboros segment at a controlled rate")
  ouroboros_manpage(ouroboros-viewer ouroboros-viewer viewer
                    "live viewer for Ouroboros shared-memory log segments")
  add_custom_target(ouroboros_manpages ALL DEPENDS ${_man_pages})
endif()

# --- files every package carries ---------------------------------------------------------------
# The release date of the changelog and the AppStream release: SOURCE_DATE_EPOCH when set (for
# reproducible packages), else the configure time.
string(TIMESTAMP OUROBOROS_CHANGELOG_DATE "%a, %d %b %Y %H:%M:%S +0000" UTC)
string(TIMESTAMP OUROBOROS_RELEASE_DATE "%Y-%m-%d" UTC)
configure_file(${OUROBOROS_PACKAGING_DIR}/changelog.in ${PROJECT_BINARY_DIR}/packaging/changelog @ONLY)
add_custom_command(
  OUTPUT ${PROJECT_BINARY_DIR}/packaging/changelog.gz
  COMMAND gzip -9nkf ${PROJECT_BINARY_DIR}/packaging/changelog
  DEPENDS ${PROJECT_BINARY_DIR}/packaging/changelog
  VERBATIM)
add_custom_target(ouroboros_changelog ALL DEPENDS ${PROJECT_BINARY_DIR}/packaging/changelog.gz)
foreach(pair IN LISTS _packages)
  string(REPLACE ":" ";" pair "${pair}")
  list(GET pair 0 component)
  list(GET pair 1 package)
  install(FILES ${OUROBOROS_PACKAGING_DIR}/copyright ${PROJECT_BINARY_DIR}/packaging/changelog.gz
          DESTINATION ${CMAKE_INSTALL_DATADIR}/doc/${package} COMPONENT ${component})
endforeach()

if(TARGET ouroboros_cli)
  install(FILES ${OUROBOROS_PACKAGING_DIR}/ouroboros-cli.bash-completion
          DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions RENAME ouroboros-cli
          COMPONENT tools)
endif()
if(TARGET ouroboros-viewer)
  configure_file(${OUROBOROS_PACKAGING_DIR}/ouroboros-viewer.metainfo.xml.in
                 ${PROJECT_BINARY_DIR}/packaging/io.github.ouroboros_log.ouroboros_viewer.metainfo.xml
                 @ONLY)
  install(FILES ${PROJECT_BINARY_DIR}/packaging/io.github.ouroboros_log.ouroboros_viewer.metainfo.xml
          DESTINATION ${CMAKE_INSTALL_DATADIR}/metainfo COMPONENT viewer)
endif()

# --- CPack --------------------------------------------------------------------------------------
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME ouroboros)
set(CPACK_PACKAGE_VENDOR "The Ouroboros developers")
set(CPACK_PACKAGE_CONTACT "The Ouroboros developers <ouroboros-log@users.noreply.github.com>")
set(CPACK_PACKAGE_HOMEPAGE_URL https://github.com/ouroboros-log/ouroboros)
set(CPACK_PACKAGE_DIRECTORY ${PROJECT_BINARY_DIR}/packages)
set(CPACK_STRIP_FILES ON)
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_ALL tools viewer dev)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "${CPACK_PACKAGE_CONTACT}")
# Each package's description below starts with its own synopsis; CPackDeb prepends the summary
# to it unless the summary is CPack's default, so the summary is set to exactly that.
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "${CMAKE_PROJECT_NAME} built using CMake")
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_COMPRESSION_TYPE xz)

set(CPACK_DEBIAN_TOOLS_PACKAGE_NAME ouroboros-tools)
set(CPACK_DEBIAN_TOOLS_PACKAGE_SECTION utils)
set(CPACK_DEBIAN_TOOLS_DESCRIPTION
    "command-line tools for Ouroboros shared-memory ring logs
Ouroboros is a live log system: one writer appends entries to a lock-free
ring buffer in a named shared-memory segment, and any number of readers in
other processes follow it without blocking the writer.

ouroboros-cli lists, inspects and tails log segments (text or JSON lines)
and forwards them to syslog; ouroboros-demo-writer writes realistic load.")

set(CPACK_DEBIAN_VIEWER_PACKAGE_NAME ouroboros-viewer)
set(CPACK_DEBIAN_VIEWER_PACKAGE_SECTION utils)
set(CPACK_DEBIAN_VIEWER_DESCRIPTION
    "live Qt viewer for Ouroboros shared-memory ring logs
Ouroboros is a live log system: one writer appends entries to a lock-free
ring buffer in a named shared-memory segment, and any number of readers in
other processes follow it without blocking the writer.

The viewer attaches to segments by name, follows or holds while entries
arrive and are evicted, and shows every lost entry as a gap row.")

# Headers and static libraries have nothing for dpkg-shlibdeps to read, so the -dev package names
# its build dependencies: the CMake package finds spdlog and Qt 6 Core for the integration
# targets it exports (cmake/ouroborosConfig.cmake.in).
set(CPACK_DEBIAN_DEV_PACKAGE_NAME libouroboros-dev)
set(CPACK_DEBIAN_DEV_PACKAGE_SECTION libdevel)
set(CPACK_DEBIAN_DEV_PACKAGE_DEPENDS "libspdlog-dev, qt6-base-dev")
set(CPACK_DEBIAN_DEV_DESCRIPTION
    "development files for Ouroboros shared-memory ring logs
Ouroboros is a live log system: one writer appends entries to a lock-free
ring buffer in a named shared-memory segment, and any number of readers in
other processes follow it without blocking the writer.

This package holds the C++20 headers, the static libraries and the CMake
package (find_package(ouroboros), target ouroboros::core), with the spdlog
sink (ouroboros::spdlog_sink) and the Qt message handler
(ouroboros::qt_handler).")

include(CPack)
