# What `cmake --install` puts where, and the .deb that `cpack -G DEB` makes of
# the same: the binary, its man page and a completion script per shell, each
# where its reader looks. Nothing else (tests and fuzzers stay in the build).
include(GNUInstallDirs)

# The completion scripts are written by the binary just built, so that they
# name exactly its commands and flags.
set(completion_dir ${PROJECT_BINARY_DIR}/completions)
set(completion_bash ${completion_dir}/epilot-action)
set(completion_zsh ${completion_dir}/_epilot-action)
set(completion_fish ${completion_dir}/epilot-action.fish)
set(completion_script ${PROJECT_SOURCE_DIR}/cmake/completion.cmake)
add_custom_command(
  OUTPUT ${completion_bash} ${completion_zsh} ${completion_fish}
  COMMAND ${CMAKE_COMMAND} -E make_directory ${completion_dir}
  COMMAND ${CMAKE_COMMAND} -DBINARY=$<TARGET_FILE:epilot-action> -DSHELL_NAME=bash
          -DOUTPUT=${completion_bash} -P ${completion_script}
  COMMAND ${CMAKE_COMMAND} -DBINARY=$<TARGET_FILE:epilot-action> -DSHELL_NAME=zsh
          -DOUTPUT=${completion_zsh} -P ${completion_script}
  COMMAND ${CMAKE_COMMAND} -DBINARY=$<TARGET_FILE:epilot-action> -DSHELL_NAME=fish
          -DOUTPUT=${completion_fish} -P ${completion_script}
  DEPENDS epilot-action ${completion_script}
  COMMENT "Writing the bash, zsh and fish completions"
  VERBATIM)
add_custom_target(completions ALL DEPENDS ${completion_bash} ${completion_zsh} ${completion_fish})

install(TARGETS epilot-action RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
# A module is data to dlopen, not a program: not executable (Debian policy 8.1).
install(TARGETS epilot-action-ui LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}/epilot-action
        PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
# The roff is committed (man/genman.mjs makes it): building needs no doc tools.
install(FILES ${PROJECT_SOURCE_DIR}/man/epilot-action.1 DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
install(FILES ${completion_bash} DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions)
install(FILES ${completion_zsh} DESTINATION ${CMAKE_INSTALL_DATADIR}/zsh/vendor-completions)
install(FILES ${completion_fish} DESTINATION ${CMAKE_INSTALL_DATADIR}/fish/vendor_completions.d)
# The JSON Schemas of every --format json output, for scripts that check what they read.
install(DIRECTORY ${PROJECT_SOURCE_DIR}/docs/schemas/ DESTINATION ${CMAKE_INSTALL_DOCDIR}/schemas)

# The .deb: epilot-action_VERSION_ARCH.deb. Its Depends are worked out by
# dpkg-shlibdeps from the libraries the binary links (dpkg-dev), so they name
# the packages of the distribution it was built on.
set(EPILOT_PACKAGE_MAINTAINER "epilot-action maintainers <maintainers@users.noreply.r-seed-1d50c757.example>"
    CACHE STRING "Maintainer field of the .deb")
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME epilot-action)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "${EPILOT_PACKAGE_MAINTAINER}")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "sign, verify and replay epilot custom-action webhook requests")
string(CONCAT CPACK_PACKAGE_DESCRIPTION
  "A command-line toolkit for endpoints of epilot custom actions: signs requests as epilot does "
  "(Standard Webhooks, Ed25519 v1a and HMAC v1), verifies captured ones and says why they fail, "
  "replays fixtures and captures to an endpoint, and checks that it refuses forged, tampered and "
  "stale requests.")
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION devel)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# fetch-key and https endpoints verify certificates against the system's CAs.
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS ca-certificates)
set(CPACK_DEBIAN_PACKAGE_SUGGESTS bash-completion)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
set(CPACK_STRIP_FILES ON)
include(CPack)
