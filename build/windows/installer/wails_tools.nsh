# Definitions and macros project.nsi uses, under the names Wails gives them.
#
# `wails build -nsis` writes its own generated version of this file over this one, with the same
# names filled in from wails.json; build/scripts/windows.sh uses this one with makensis directly,
# passing the values with -D. Every define can be given on the command line and is only set here
# when it was not.

!include "x64.nsh"
!include "WinVer.nsh"
!include "FileFunc.nsh"

!ifndef INFO_PROJECTNAME
    !define INFO_PROJECTNAME "socketeer"
!endif
!ifndef INFO_COMPANYNAME
    !define INFO_COMPANYNAME "Socketeer"
!endif
!ifndef INFO_PRODUCTNAME
    !define INFO_PRODUCTNAME "Socketeer"
!endif
!ifndef INFO_PRODUCTVERSION
    !define INFO_PRODUCTVERSION "0.0.0"
!endif
!ifndef INFO_COPYRIGHT
    !define INFO_COPYRIGHT "The Socketeer developers"
!endif
!ifndef PRODUCT_EXECUTABLE
    !define PRODUCT_EXECUTABLE "${INFO_PROJECTNAME}.exe"
!endif
!ifndef UNINST_KEY_NAME
    !define UNINST_KEY_NAME "${INFO_COMPANYNAME}${INFO_PRODUCTNAME}"
!endif
!define UNINST_KEY "Software\Microsoft\Windows\CurrentVersion\Uninstall\${UNINST_KEY_NAME}"

# Installing into Program Files for every user needs an administrator.
!ifndef REQUEST_EXECUTION_LEVEL
    !define REQUEST_EXECUTION_LEVEL "admin"
!endif
RequestExecutionLevel "${REQUEST_EXECUTION_LEVEL}"

# The binaries to install, one per architecture; at least one must be given.
!ifdef ARG_WAILS_AMD64_BINARY
    !define SUPPORTS_AMD64
!endif
!ifdef ARG_WAILS_ARM64_BINARY
    !define SUPPORTS_ARM64
!endif
!ifdef SUPPORTS_AMD64 & SUPPORTS_ARM64
    !define ARCH "amd64_arm64"
!else ifdef SUPPORTS_AMD64
    !define ARCH "amd64"
!else ifdef SUPPORTS_ARM64
    !define ARCH "arm64"
!else
    !error "give the binary with -DARG_WAILS_AMD64_BINARY=... or -DARG_WAILS_ARM64_BINARY=..."
!endif

# Refuses Windows before 10 and machines none of the binaries runs on.
!macro wails.checkArchitecture
    ${IfNot} ${AtLeastWin10}
        IfSilent +2
            MessageBox MB_OK|MB_ICONSTOP "${INFO_PRODUCTNAME} needs Windows 10 or later."
        SetErrorLevel 64
        Quit
    ${EndIf}
    !ifdef SUPPORTS_AMD64
        ${If} ${IsNativeAMD64}
            Goto archSupported
        ${EndIf}
    !endif
    !ifdef SUPPORTS_ARM64
        ${If} ${IsNativeARM64}
            Goto archSupported
        ${EndIf}
    !endif
    IfSilent +2
        MessageBox MB_OK|MB_ICONSTOP "${INFO_PRODUCTNAME} cannot run on this processor; it is built for ${ARCH}."
    SetErrorLevel 65
    Quit
    archSupported:
!macroend

# Installs the binary for the machine's architecture.
!macro wails.files
    !ifdef SUPPORTS_AMD64
        ${If} ${IsNativeAMD64}
            File "/oname=${PRODUCT_EXECUTABLE}" "${ARG_WAILS_AMD64_BINARY}"
        ${EndIf}
    !endif
    !ifdef SUPPORTS_ARM64
        ${If} ${IsNativeARM64}
            File "/oname=${PRODUCT_EXECUTABLE}" "${ARG_WAILS_ARM64_BINARY}"
        ${EndIf}
    !endif
!macroend

# Shortcuts go to every user's menus when installed as administrator, else to the user's own.
!macro wails.setShellContext
    ${If} "${REQUEST_EXECUTION_LEVEL}" == "admin"
        SetShellVarContext all
    ${Else}
        SetShellVarContext current
    ${EndIf}
!macroend

# Writes the uninstaller and registers it under "Apps & features".
!macro wails.writeUninstaller
    WriteUninstaller "$INSTDIR\uninstall.exe"
    SetRegView 64
    WriteRegStr HKLM "${UNINST_KEY}" "DisplayName" "${INFO_PRODUCTNAME}"
    WriteRegStr HKLM "${UNINST_KEY}" "DisplayVersion" "${INFO_PRODUCTVERSION}"
    WriteRegStr HKLM "${UNINST_KEY}" "Publisher" "${INFO_COMPANYNAME}"
    WriteRegStr HKLM "${UNINST_KEY}" "DisplayIcon" "$INSTDIR\${PRODUCT_EXECUTABLE}"
    WriteRegStr HKLM "${UNINST_KEY}" "UninstallString" "$\"$INSTDIR\uninstall.exe$\""
    WriteRegStr HKLM "${UNINST_KEY}" "QuietUninstallString" "$\"$INSTDIR\uninstall.exe$\" /S"
    WriteRegDWORD HKLM "${UNINST_KEY}" "NoModify" 1
    WriteRegDWORD HKLM "${UNINST_KEY}" "NoRepair" 1
    ${GetSize} "$INSTDIR" "/S=0K" $0 $1 $2
    IntFmt $0 "0x%08X" $0
    WriteRegDWORD HKLM "${UNINST_KEY}" "EstimatedSize" "$0"
!macroend

# Removes the uninstaller and its registration.
!macro wails.deleteUninstaller
    Delete "$INSTDIR\uninstall.exe"
    SetRegView 64
    DeleteRegKey HKLM "${UNINST_KEY}"
!macroend
