Unicode true

# Socketeer's Windows installer, in Wails' layout: `wails build -nsis` uses this file with its
# generated wails_tools.nsh, and build/scripts/windows.sh runs makensis on it directly:
#
#   makensis -DARG_WAILS_AMD64_BINARY=../../bin/socketeer.exe -DINFO_PRODUCTVERSION=1.2.0 project.nsi
#
# INFO_PRODUCTVERSION must be three numbers; SOCKETEER_VERSION may add the full version text.

!include "wails_tools.nsh"

!ifndef SOCKETEER_VERSION
    !define SOCKETEER_VERSION "${INFO_PRODUCTVERSION}"
!endif

# Windows wants four numbers here.
VIProductVersion "${INFO_PRODUCTVERSION}.0"
VIFileVersion    "${INFO_PRODUCTVERSION}.0"
VIAddVersionKey "CompanyName"     "${INFO_COMPANYNAME}"
VIAddVersionKey "FileDescription" "${INFO_PRODUCTNAME} installer"
VIAddVersionKey "ProductVersion"  "${SOCKETEER_VERSION}"
VIAddVersionKey "FileVersion"     "${INFO_PRODUCTVERSION}"
VIAddVersionKey "LegalCopyright"  "${INFO_COPYRIGHT}"
VIAddVersionKey "ProductName"     "${INFO_PRODUCTNAME}"

!include "MUI2.nsh"

!define MUI_ICON "..\icon.ico"
!define MUI_UNICON "..\icon.ico"
!define MUI_ABORTWARNING
# The first page says plainly what this build does and does not do.
!define MUI_WELCOMEPAGE_TITLE "Socketeer ${SOCKETEER_VERSION} for Windows (preview)"
!define MUI_WELCOMEPAGE_TEXT "This installs Socketeer's command line: managing trusted certificates, remembered connections, site profiles and site packages.$\r$\n$\r$\nSite windows and the socket bridge, which let web apps open connections, need Linux in this version; on Windows Socketeer says so instead of opening a site.$\r$\n$\r$\nClick Next to continue."
!define MUI_FINISHPAGE_SHOWREADME
!define MUI_FINISHPAGE_SHOWREADME_TEXT "Open a Socketeer command prompt"
!define MUI_FINISHPAGE_SHOWREADME_FUNCTION openPrompt

!insertmacro MUI_PAGE_WELCOME
!insertmacro MUI_PAGE_DIRECTORY
!insertmacro MUI_PAGE_INSTFILES
!insertmacro MUI_PAGE_FINISH
!insertmacro MUI_UNPAGE_CONFIRM
!insertmacro MUI_UNPAGE_INSTFILES
!insertmacro MUI_LANGUAGE "English"

Name "${INFO_PRODUCTNAME}"
!ifndef OUTFILE
    !define OUTFILE "..\..\bin\${INFO_PROJECTNAME}-${ARCH}-installer.exe"
!endif
OutFile "${OUTFILE}"
InstallDir "$PROGRAMFILES64\${INFO_PRODUCTNAME}"
ShowInstDetails show
ShowUninstDetails show

Function .onInit
    !insertmacro wails.checkArchitecture
FunctionEnd

# The command line is the part that works on Windows, so the shortcut opens a prompt in the
# installation folder with the commands listed.
!define PROMPT_ARGS '/k "cd /d "$INSTDIR" && ${PRODUCT_EXECUTABLE} help"'

Function openPrompt
    Exec '"$SYSDIR\cmd.exe" ${PROMPT_ARGS}'
FunctionEnd

Section "Socketeer"
    !insertmacro wails.setShellContext
    SetOutPath "$INSTDIR"
    !insertmacro wails.files
    CreateShortcut "$SMPROGRAMS\${INFO_PRODUCTNAME} command prompt.lnk" "$SYSDIR\cmd.exe" '${PROMPT_ARGS}' "$INSTDIR\${PRODUCT_EXECUTABLE}" 0
    !insertmacro wails.writeUninstaller
SectionEnd

Section "uninstall"
    !insertmacro wails.setShellContext
    Delete "$INSTDIR\${PRODUCT_EXECUTABLE}"
    Delete "$SMPROGRAMS\${INFO_PRODUCTNAME} command prompt.lnk"
    !insertmacro wails.deleteUninstaller
    # Only an empty folder is removed: the user's profiles live elsewhere, in the user's own folders.
    RMDir "$INSTDIR"
SectionEnd
